"""Cases: triage, review, rating, publication state machine, comments and assignment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from civicshield.errors import Conflict
from civicshield.service.api.schemas import (
    AssignIn,
    CaseIn,
    CaseOut,
    CommentIn,
    CommentOut,
    CorrectionIn,
    Language,
    PublishOut,
    RatingIn,
    RetractionIn,
    TechniquesIn,
    TransitionIn,
)
from civicshield.service.domain import links, publication, store, tips
from civicshield.service.domain.states import CaseState
from civicshield.service.domain.tables import Case
from civicshield.service.web.deps import CaseDep, DbDep, Reviewer, RuntimeDep, Submitter, Viewer

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


def case_out(s: Session, case: Case, with_comments: bool = False) -> CaseOut:
    job = store.latest_job_for_item_id(s, case.item_id)
    out = CaseOut.model_validate(case, from_attributes=True)
    out.machine_label = job.label if job else None
    asked = tips.demand(s, case.id)
    out.requests, out.first_requested_at = asked.requests, asked.first_seen
    if with_comments:
        out.comments = [CommentOut.model_validate(c, from_attributes=True) for c in store.comments(s, case)]
    return out


@router.post("", response_model=CaseOut, status_code=201)
def open_case(body: CaseIn, s: DbDep, who: Submitter) -> CaseOut:
    item = store.get_item(s, who, body.item_id)
    source = store.ClaimSource(body.claim_author, body.claim_author_kind, body.claim_date, body.claim_url)
    return case_out(s, store.create_case(s, who, item, body.title, body.claim, body.tlp, source))


@router.get("", response_model=list[CaseOut])
def list_cases(s: DbDep, who: Viewer, state: CaseState | None = None) -> list[CaseOut]:
    return [case_out(s, c) for c in store.list_cases(s, who, state)]


@router.get("/{case_id}", response_model=CaseOut)
def get_case(case: CaseDep, s: DbDep) -> CaseOut:
    return case_out(s, case, with_comments=True)


@router.post("/{case_id}/transition", response_model=CaseOut)
def move(body: TransitionIn, case: CaseDep, s: DbDep, who: Reviewer) -> CaseOut:
    return case_out(s, store.transition(s, who, case, body.to))


@router.post("/{case_id}/assign", response_model=CaseOut)
def assign(body: AssignIn, case: CaseDep, s: DbDep, who: Reviewer) -> CaseOut:
    return case_out(s, store.assign(s, who, case, body.user_id))


@router.post("/{case_id}/comments", response_model=CommentOut, status_code=201)
def add_comment(body: CommentIn, case: CaseDep, s: DbDep, who: Reviewer) -> CommentOut:
    return CommentOut.model_validate(store.comment(s, who, case, body.body), from_attributes=True)


@router.post("/{case_id}/rating", response_model=CaseOut)
def rate(body: RatingIn, case: CaseDep, s: DbDep, who: Reviewer) -> CaseOut:
    return case_out(s, store.rate(s, who, case, body.rating, body.note))


@router.post("/{case_id}/publish", response_model=PublishOut)
def publish(case: CaseDep, s: DbDep, rt: RuntimeDep, who: Reviewer) -> PublishOut:
    """Publish the fact-check: ClaimReview, public page (TLP:CLEAR cases), hashes into the known-fake bank,
    alerts to subscribers allowed to see the case's TLP."""
    result = publication.publish(s, who, case, rt.settings.base_url)
    return PublishOut(
        case=case_out(s, case),
        bank_id=result.bank_id,
        entries_added=result.entries_added,
        fact_check_url=links.fact_check_url(rt.settings.base_url, case),
    )


@router.post("/{case_id}/correction", response_model=CaseOut)
def correct(body: CorrectionIn, case: CaseDep, s: DbDep, rt: RuntimeDep, who: Reviewer) -> CaseOut:
    """Correct a published fact-check (a new rating and/or text): the page shows it with its date,
    ClaimReview gets ``dateModified``, STIX a new version, bank entries follow the rating, partners get
    ``fact_check.corrected``, a public one enters the transparency log."""
    return case_out(
        s, publication.correct(s, who, case, rt.settings.base_url, note=body.note, rating=body.rating)
    )


@router.put("/{case_id}/disarm", response_model=CaseOut)
def tag(body: TechniquesIn, case: CaseDep, s: DbDep, who: Reviewer) -> CaseOut:
    """Tag the case with DISARM techniques; STIX exports carry them as the framework's attack patterns."""
    return case_out(s, publication.tag_techniques(s, who, case, body.techniques))


@router.post("/{case_id}/retraction", response_model=CaseOut)
def retract(body: RetractionIn, case: CaseDep, s: DbDep, rt: RuntimeDep, who: Reviewer) -> CaseOut:
    """Retract a published fact-check with a reason: the page says so, the ClaimReview answers 410, STIX
    objects are revoked, its bank entries are withdrawn, partners get ``fact_check.retracted``."""
    return case_out(s, publication.retract(s, who, case, rt.settings.base_url, reason=body.reason))


@router.get("/{case_id}/claimreview")
def claimreview(
    case: CaseDep, s: DbDep, rt: RuntimeDep, lang: Annotated[Language, Query()] = "en"
) -> JSONResponse:
    """ClaimReview JSON-LD of a published case (a preview while it is in review)."""
    if case.rating is None:
        raise Conflict("rate the case first")
    doc = publication.claimreview_for(s, case, rt.settings.base_url, lang)
    return JSONResponse(doc, media_type="application/ld+json")
