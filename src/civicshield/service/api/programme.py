"""The protection programme's API (issue 12): enrolment and the operators' decision, the shipped security
guidance, the organization's posture on its checklist, and mitigation plans (opened from a notification in
one call). Protected entries and notifications have their own routers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from civicshield.protection.guidance import LANGUAGES, Playbook, guidance
from civicshield.service.api.schemas import Strict
from civicshield.service.domain import enrolment
from civicshield.service.domain import guidance as posture_plans
from civicshield.service.domain.tables import MitigationPlan, ProtectionEnrolment
from civicshield.service.web.deps import DbDep, IdPath, Operator, OrgAdmin, Reviewer, Viewer

router = APIRouter(prefix="/api/v1/protection", tags=["protection"])
operators = APIRouter(prefix="/api/v1/admin/protection", tags=["admin"])
Lang = Annotated[Literal["en", "nl", "fr", "de"], Query(description="language of the texts")]


class EnrolmentIn(Strict):
    kind: Literal["election_authority", "party", "candidate_team", "newsroom", "ngo"]
    contact_name: str = Field(min_length=1, max_length=200)
    contact_email: str = Field(min_length=3, max_length=320)
    contact_phone: str = Field(default="", max_length=40)
    consent: bool = Field(description="acceptance of the programme's terms (GET /enrolment shows them)")


class EnrolmentOut(BaseModel):
    id: int | None
    org_id: int
    state: str
    kind: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    consent_version: str | None = None
    consented_by: str | None = None
    decided_at: dt.datetime | None = None
    terms: str = enrolment.CONSENT
    terms_version: str = enrolment.CONSENT_VERSION


def _enrolment(row: ProtectionEnrolment | None, org_id: int) -> EnrolmentOut:
    if row is None:
        return EnrolmentOut(id=None, org_id=org_id, state="not_enrolled")
    return EnrolmentOut(
        id=row.id,
        org_id=row.org_id,
        state=str(row.state),
        kind=row.kind,
        contact_name=row.contact_name,
        contact_email=row.contact_email,
        consent_version=row.consent_version,
        consented_by=row.consented_by,
        decided_at=row.decided_at,
    )


@router.get("/enrolment", response_model=EnrolmentOut)
def get_enrolment(s: DbDep, who: Viewer) -> EnrolmentOut:
    """The organization's place in the programme, and the terms an enrolment accepts."""
    return _enrolment(enrolment.enrolment_of(s, who.org_id), who.org_id)


@router.post("/enrolment", response_model=EnrolmentOut, status_code=201)
def enrol(body: EnrolmentIn, s: DbDep, who: OrgAdmin) -> EnrolmentOut:
    """Ask to join: the organization's kind, a named security contact, consent to the terms."""
    row = enrolment.enrol(
        s,
        who,
        kind=body.kind,
        contact_name=body.contact_name,
        contact_email=body.contact_email,
        contact_phone=body.contact_phone,
        consent=body.consent,
    )
    return _enrolment(row, who.org_id)


@router.delete("/enrolment", response_model=EnrolmentOut)
def withdraw(s: DbDep, who: OrgAdmin) -> EnrolmentOut:
    return _enrolment(enrolment.withdraw(s, who), who.org_id)


@operators.get("/enrolments", response_model=list[EnrolmentOut])
def pending_enrolments(s: DbDep, who: Operator) -> list[EnrolmentOut]:
    return [_enrolment(row, row.org_id) for row in enrolment.pending(s, who)]


class DecisionIn(Strict):
    note: str = Field(default="", max_length=2000)


@operators.post("/enrolments/{enrolment_id}/{decision}", response_model=EnrolmentOut)
def decide(
    enrolment_id: IdPath, decision: Literal["approve", "decline"], body: DecisionIn, s: DbDep, who: Operator
) -> EnrolmentOut:
    row = enrolment.decide(s, who, enrolment_id, approve=decision == "approve", note=body.note)
    return _enrolment(row, row.org_id)


def _playbook(p: Playbook, lang: str) -> dict[str, Any]:
    owners = guidance().owners
    return {
        "id": p.id,
        "title": p.title.in_(lang),
        "steps": [
            {
                "id": st.id,
                "owner": owners[st.owner].in_(lang),
                "minutes": st.minutes,
                "text": st.text.in_(lang),
            }
            for st in p.steps
        ],
    }


@router.get("/guidance")
def get_guidance(who: Viewer, lang: Lang = "en") -> dict[str, Any]:
    """The shipped checklist and playbooks, in ``lang`` (en, nl, fr, de)."""
    shipped = guidance()
    return {
        "version": shipped.version,
        "languages": list(LANGUAGES),
        "checklist": [
            {"id": i.id, "weight": i.weight, "title": i.title.in_(lang), "how": i.how.in_(lang)}
            for i in shipped.checklist
        ],
        "playbooks": [_playbook(p, lang) for p in shipped.playbooks],
    }


class PostureIn(Strict):
    done: bool
    evidence: str = Field(default="", max_length=4000)
    due_on: dt.date | None = None


@router.get("/posture")
def get_posture(s: DbDep, who: Viewer, lang: Lang = "en") -> dict[str, Any]:
    """The checklist with the organization's progress, and its score (0-100, by weight)."""
    current = posture_plans.posture(s, who)
    return {
        "version": current.version,
        "score": current.score,
        "items": [
            {
                "id": line.item.id,
                "title": line.item.title.in_(lang),
                "weight": line.item.weight,
                "done": line.done,
                "evidence": line.evidence,
                "due_on": line.due_on,
                "updated_by": line.updated_by,
            }
            for line in current.lines
        ],
    }


@router.put("/posture/{item_id}", status_code=204)
def set_posture(
    item_id: Annotated[str, PathParam(max_length=60, pattern=r"^[a-z0-9-]+$")],
    body: PostureIn,
    s: DbDep,
    who: Reviewer,
) -> Response:
    posture_plans.set_item(s, who, item_id, done=body.done, evidence=body.evidence, due_on=body.due_on)
    return Response(status_code=204)


class PlanIn(Strict):
    playbook: str = Field(max_length=60)


def _plan(row: MitigationPlan, lang: str) -> dict[str, Any]:
    playbook = guidance().playbook(row.playbook_id)
    steps = _playbook(playbook, lang)["steps"] if playbook is not None else []
    for step in steps:
        step["due_at"] = row.opened_at + dt.timedelta(minutes=step["minutes"])
        step["done"] = (row.steps or {}).get(step["id"])
    return {
        "id": row.id,
        "playbook": row.playbook_id,
        "title": playbook.title.in_(lang) if playbook is not None else row.playbook_id,
        "notification_id": row.notification_id,
        "opened_by": row.opened_by,
        "opened_at": row.opened_at,
        "closed_at": row.closed_at,
        "steps": steps,
    }


@router.get("/plans")
def list_plans(s: DbDep, who: Viewer, lang: Lang = "en") -> list[dict[str, Any]]:
    return [_plan(row, lang) for row in posture_plans.plans(s, who)]


@router.post("/plans", status_code=201)
def open_plan(body: PlanIn, s: DbDep, who: Reviewer) -> dict[str, Any]:
    return _plan(posture_plans.open_plan(s, who, body.playbook), "en")


@router.get("/plans/{plan_id}")
def get_plan(plan_id: IdPath, s: DbDep, who: Viewer, lang: Lang = "en") -> dict[str, Any]:
    return _plan(posture_plans.plan_of(s, who, plan_id)[0], lang)


@router.post("/plans/{plan_id}/steps/{step_id}/done")
def step_done(
    plan_id: IdPath,
    step_id: Annotated[str, PathParam(max_length=60, pattern=r"^[a-z0-9-]+$")],
    s: DbDep,
    who: Reviewer,
) -> dict[str, Any]:
    return _plan(posture_plans.complete_step(s, who, plan_id, step_id), "en")


@router.post("/plans/{plan_id}/close")
def close_plan(plan_id: IdPath, s: DbDep, who: Reviewer) -> dict[str, Any]:
    return _plan(posture_plans.close_plan(s, who, plan_id), "en")


@router.post("/notifications/{notification_id}/plan", status_code=201)
def plan_for_notification(notification_id: IdPath, s: DbDep, who: Reviewer) -> dict[str, Any]:
    """Open (or reopen) the plan of the playbook a notification names, in one call."""
    return _plan(posture_plans.plan_for_notification(s, who, notification_id), "en")
