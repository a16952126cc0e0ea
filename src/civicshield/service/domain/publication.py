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

from sqlalchemy.orm import Session

from civicshield.banks import BankEntry
from civicshield.errors import BankFormatError
from civicshield.service.domain import alerts, banks, store, transparency
from civicshield.service.domain.links import fact_check_url
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.states import CaseState, WebhookEvent
from civicshield.service.domain.tables import Case, Item, Organization, utcnow
from civicshield.sharing import (
    FactCheck,
    HashKind,
    MediaHash,
    MediaItem,
    Party,
    PartyKind,
    Rating,
    claimreview,
)
from civicshield.sharing import MediaKind as ShareKind
from civicshield.sharing.tlp import TLP

FACT_CHECK_BANK = "fact-checks"


@dataclass(frozen=True)
class Published:
    case_id: int
    bank_id: int | None
    entries_added: int


def item_entries(item: Item, label: str, link: str) -> list[BankEntry]:
    """Bank entries from the hashes the analysis job stored on the item."""
    out = []
    for raw in item.hashes.get("entries", []):
        try:
            out.append(
                BankEntry.create(
                    raw["signal_type"],
                    raw["hash"],
                    label,
                    link=link,
                    quality=raw.get("quality"),
                    original_name=item.filename,
                    original_sha256=item.sha256,
                )
            )
        except (BankFormatError, KeyError, TypeError):
            continue
    return out


def publish(s: Session, who: Principal, case: Case, base_url: str) -> Published:
    store.transition(s, who, case, CaseState.PUBLISHED)
    item = s.get(Item, case.item_id)
    bank_id, added = None, 0
    if item is not None and case.rating is not None and case.rating.debunks:
        bank = banks.ensure_bank(s, who.org_id, FACT_CHECK_BANK, "known_fake", "GREEN")
        entries = item_entries(item, case.title, fact_check_url(base_url, case))
        added = len(banks.add_entries(s, who, bank, entries, tlp=case.tlp, case_id=case.id))
        bank_id = bank.id

    alerts.queue_event(s, who.org_id, WebhookEvent.CASE_PUBLISHED, case.tlp, case_payload(s, case, base_url))
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
