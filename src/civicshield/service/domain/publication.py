"""Publishing a case: the state change, the fact-check documents, and the known-fake bank entries.

A case rated false / misleading / manipulated adds the item's hashes (sha256, PDQ, vPDQ, Chromaprint, as
computed by its analysis job) to the organization's ``fact-checks`` known-fake bank, under the case's TLP and
linked to the fact-check page, so every later re-upload matches. Webhook deliveries are queued in the same
transaction (see ``alerts``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.errors import Conflict, Forbidden, UsageError
from civicshield.service.domain import alerts, audit, banks, reads, store, tips, transparency
from civicshield.service.domain.links import fact_check_url
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role
from civicshield.service.domain.states import CaseState, WebhookEvent
from civicshield.service.domain.tables import BankEntryRow, Case, CaseRevision, Item, Organization, utcnow
from civicshield.sharing import (
    FactCheck,
    HashKind,
    MediaHash,
    MediaItem,
    Party,
    PartyKind,
    Rating,
    claimreview,
    disarm,
)
from civicshield.sharing import MediaKind as ShareKind
from civicshield.sharing.tlp import TLP

FACT_CHECK_BANK = "fact-checks"


@dataclass(frozen=True)
class Published:
    case_id: int
    bank_id: int | None
    entries_added: int


def publish(s: Session, who: Principal, case: Case, base_url: str) -> Published:
    store.transition(s, who, case, CaseState.PUBLISHED)
    item = s.get(Item, case.item_id)
    bank_id, added = None, 0
    if item is not None and case.rating is not None and case.rating.debunks:
        bank = banks.ensure_bank(s, who.org_id, FACT_CHECK_BANK, "known_fake", "GREEN")
        entries = reads.item_entries(item, case.title, fact_check_url(base_url, case))
        added = len(
            banks.add_entries(s, who, bank, entries, tlp=case.tlp, case_id=case.id, base_url=base_url)
        )
        bank_id = bank.id

    alerts.queue_event(s, who.org_id, WebhookEvent.CASE_PUBLISHED, case.tlp, case_payload(s, case, base_url))
    _tell_requesters(s, case, "published", base_url)
    if case.tlp is TLP.CLEAR:  # public: it enters the public log (issue 15)
        org = s.get(Organization, case.org_id)
        transparency.append(
            s,
            "fact_check.published",
            {
                "url": fact_check_url(base_url, case),
                "rating": str(case.rating or Rating.UNVERIFIABLE),
                "headline": case.title,
                "publisher": org.name if org else "",
                "date_published": (case.published_at or utcnow()).isoformat(timespec="seconds"),
            },
        )
    return Published(case.id, bank_id, added)


def correct(
    s: Session, who: Principal, case: Case, base_url: str, *, note: str, rating: Rating | str | None = None
) -> Case:
    """Correct a published fact-check: a new rating and/or an explanation, shown with the date on the page,
    as ``dateModified`` in ClaimReview and a new STIX version. Its bank entries follow the new rating (a
    rating that no longer debunks withdraws them); partners get ``fact_check.corrected``; a public one enters
    the transparency log."""
    _published_only(who, case)
    if not note.strip():
        raise UsageError("say what was corrected (note)")
    before = case.rating
    after = Rating.parse(rating) if isinstance(rating, str) else rating or before
    case.rating = after
    case.rating_note = note.strip()[:8000]
    _revise(s, who, case, "corrected", before, after, note)
    entries = s.scalars(select(BankEntryRow).where(BankEntryRow.case_id == case.id))
    if after is not None and not after.debunks:
        banks.withdraw(s, who, list(entries), reason=f"fact-check corrected to {after}")
    _announce(s, who, case, base_url, WebhookEvent.FACT_CHECK_CORRECTED, {"note": note.strip()[:2000]})
    _tell_requesters(s, case, "corrected", base_url)
    return case


def retract(s: Session, who: Principal, case: Case, base_url: str, *, reason: str) -> Case:
    """Retract a published fact-check with a reason: the page says so, ClaimReview is withdrawn, STIX
    objects are revoked, bank entries withdrawn, partners told (``fact_check.retracted``), the public log
    records it."""
    _published_only(who, case)
    if not reason.strip():
        raise UsageError("give the reason for the retraction")
    case.retracted_at = utcnow()
    case.retraction_reason = reason.strip()[:8000]
    _revise(s, who, case, "retracted", case.rating, case.rating, reason)
    entries = list(s.scalars(select(BankEntryRow).where(BankEntryRow.case_id == case.id)))
    banks.withdraw(s, who, entries, reason="fact-check retracted")
    _announce(
        s, who, case, base_url, WebhookEvent.FACT_CHECK_RETRACTED, {"reason": case.retraction_reason[:2000]}
    )
    _tell_requesters(s, case, "retracted", base_url)
    return case


def _tell_requesters(s: Session, case: Case, event: str, base_url: str) -> None:
    """The people who sent this case in as tips hear of it through their channel (after the commit)."""
    if tips.answer_case(s, case, event, base_url):
        alerts.announce_after_commit(s)  # wakes the worker that sends deliveries and replies


def tag_techniques(s: Session, who: Principal, case: Case, techniques: list[str]) -> Case:
    """Tag a case with DISARM techniques (``sharing.disarm``); on a published case the change is a new STIX
    version (``modified`` moves), as any change to published objects must be."""
    if not who.can(Role.REVIEWER) or who.org_id != case.org_id:
        raise Forbidden("the case's organization's reviewers tag it")
    tags = list(disarm.validate(techniques))
    if tags == list(case.disarm or []):
        return case
    case.disarm = tags
    if case.state is CaseState.PUBLISHED:
        case.modified_at = utcnow()
    audit.record(s, who.org_id, who.actor, "case.tagged", "case", case.id, {"disarm": tags})
    return case


def _published_only(who: Principal, case: Case) -> None:
    if not who.can(Role.REVIEWER) or who.org_id != case.org_id:
        raise Forbidden("the publishing organization's reviewers correct and retract its fact-checks")
    if case.state is not CaseState.PUBLISHED:
        raise Conflict("only a published fact-check is corrected or retracted")
    if case.retracted_at is not None:
        raise Conflict("the fact-check is retracted")


def _revise(
    s: Session, who: Principal, case: Case, kind: str, before: Rating | None, after: Rating | None, note: str
) -> None:
    case.modified_at = utcnow()
    s.add(
        CaseRevision(
            case_id=case.id,
            kind=kind,
            rating_before=str(before or ""),
            rating_after=str(after or ""),
            note=note.strip()[:8000],
            actor=who.actor,
        )
    )
    audit.record(s, who.org_id, who.actor, f"case.{kind}", "case", case.id, {"rating": str(after or "")})


def _announce(
    s: Session, who: Principal, case: Case, base_url: str, event: WebhookEvent, extra: dict[str, Any]
) -> None:
    payload = {**case_payload(s, case, base_url), **extra}
    alerts.queue_event(s, who.org_id, event, case.tlp, payload)
    if case.tlp is TLP.CLEAR:
        transparency.append(
            s,
            str(event),
            {
                "url": fact_check_url(base_url, case),
                "rating": str(case.rating or Rating.UNVERIFIABLE),
                "date_modified": (case.modified_at or utcnow()).isoformat(timespec="seconds"),
                **extra,
            },
        )


def revisions(s: Session, case: Case) -> list[CaseRevision]:
    return list(
        s.scalars(select(CaseRevision).where(CaseRevision.case_id == case.id).order_by(CaseRevision.id))
    )


def fact_check(s: Session, case: Case, base_url: str, language: str = "en") -> FactCheck:
    org = s.get(Organization, case.org_id)
    item = s.get(Item, case.item_id)
    published = case.published_at or dt.datetime.now(dt.UTC)
    if published.tzinfo is None:
        published = published.replace(tzinfo=dt.UTC)
    media: tuple[MediaItem, ...] = ()
    if item is not None and item.media_kind:
        hashes = tuple(
            MediaHash.stored(e["signal_type"], e["hash"], e.get("quality"))
            for e in item.hashes.get("entries", [])
            if e.get("signal_type") in set(HashKind)
        )
        if hashes:
            media = (MediaItem(ShareKind(item.media_kind), hashes, name=item.filename),)
    page = fact_check_url(base_url, case)
    return FactCheck(
        claim=case.claim or case.title,
        rating=case.rating or Rating.UNVERIFIABLE,
        url=page,
        publisher=Party(org.name if org else "CivicShield"),
        date_published=published,
        language=language,
        headline=case.title,
        summary=case.rating_note or None,
        media=media,
        claimreview_url=f"{page}.jsonld?lang={language}",
        date_modified=_aware(case.modified_at) if case.modified_at else None,
        retracted=case.retracted_at is not None,
        techniques=tuple(case.disarm or ()),
        claim_author=(
            Party(case.claim_author, kind=PartyKind(case.claim_author_kind)) if case.claim_author else None
        ),
        claim_date=(
            dt.datetime.combine(case.claim_date, dt.time(), tzinfo=dt.UTC) if case.claim_date else None
        ),
        appearances=(case.claim_url,) if case.claim_url else (),
        first_appearance=case.claim_url or None,  # the earliest appearance the fact-checker recorded
    )


def claimreview_for(s: Session, case: Case, base_url: str, language: str = "en") -> dict[str, Any]:
    return claimreview(fact_check(s, case, base_url, language), language=language)


def case_payload(s: Session, case: Case, base_url: str) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "title": case.title,
        "rating": case.rating,
        "tlp": case.tlp,
        "url": fact_check_url(base_url, case),
        "claimreview": claimreview_for(s, case, base_url),
    }


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
