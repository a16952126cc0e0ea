"""Matching the past (issue 13, part 5): when hashes enter a known-fake bank, the items every organization
submitted *before* the fake was known are matched against them, and their owners are told.

HMA's users ask for this: a fake confirmed on Thursday was often uploaded on Monday. Only organizations that
may see the new entries (``banks.visible``: the entry's sharing label) learn of them, each about its own
items only: an inbox line and the ``match.found`` webhook marked ``"earlier_item": true``. The item a
fact-check was published from is not reported against its own entries. PDQ within the bank's match distance
(31, one FAISS range search of every earlier item's PDQ against the new entries) and exact SHA-256 are
compared; video and audio hashes are matched on the next look-up instead. The scan reads the stored hashes
of the ``MAX_ITEMS`` most recent items in the transaction that adds the entries: bounded, and enough for a
coalition's last months (past that, a background job is the next step).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.banks.policy import DEFAULT_POLICY
from civicshield.hashing.index import FlatPdqIndex
from civicshield.service.domain import alerts, notifications
from civicshield.service.domain.links import fact_check_url
from civicshield.service.domain.states import WebhookEvent
from civicshield.service.domain.tables import BankEntryRow, BankRow, Case, Item
from civicshield.sharing.tlp import TLP, most_restrictive

__all__ = ["MAX_ITEMS", "match_earlier_items"]

MAX_ITEMS = 200_000
KIND = "earlier_item_matched"


Visible = Callable[[int, int, TLP], bool]


def match_earlier_items(
    s: Session, bank: BankRow, rows: Sequence[BankEntryRow], base_url: str, *, visible: Visible
) -> int:
    """Tell the owners of earlier items that match ``rows`` (new entries of ``bank``); returns how many
    (item, entry) pairs were found. ``visible(org, owner_org, label)`` is the banks' sharing rule."""
    pdq = [r for r in rows if r.signal_type == "pdq"]
    sha = {r.value.lower(): r for r in rows if r.signal_type == "sha256"}
    if not pdq and not sha:
        return 0
    own_sources = {r.original_sha256 for r in rows if r.original_sha256}
    by_id = {r.id: r for r in pdq}
    index = FlatPdqIndex()  # the new entries; every earlier item's PDQ is one query of a single batch
    index.add([r.value for r in pdq], [r.id for r in pdq])
    found: dict[int, list[tuple[Item, BankEntryRow, int]]] = defaultdict(list)
    queries: list[tuple[Item, str]] = []
    for item in s.scalars(select(Item).order_by(Item.id.desc()).limit(MAX_ITEMS)):
        if item.sha256 in own_sources:
            continue  # the fact-check's own item
        hit = sha.get((item.sha256 or "").lower())
        if hit is not None and visible(item.org_id, bank.org_id, hit.tlp):
            found[item.org_id].append((item, hit, 0))
            continue
        stored = next(
            (e["hash"] for e in (item.hashes or {}).get("entries", []) if e.get("signal_type") == "pdq"), None
        )
        if stored and pdq:
            queries.append((item, stored))
    results = index.search_many([h for _, h in queries], DEFAULT_POLICY.pdq_max_distance) if queries else []
    for (item, _), near in zip(queries, results, strict=True):
        best = next((h for h in near if visible(item.org_id, bank.org_id, by_id[h.id].tlp)), None)
        if best is not None:
            found[item.org_id].append((item, by_id[best.id], best.distance))
    for org_id, hits in found.items():
        _tell(s, org_id, bank, hits, base_url)
    return sum(len(h) for h in found.values())


def _tell(
    s: Session, org_id: int, bank: BankRow, hits: list[tuple[Item, BankEntryRow, int]], base_url: str
) -> None:
    matches: list[dict[str, Any]] = []
    for item, row, distance in hits[:100]:
        case = s.get(Case, row.case_id) if row.case_id else None
        matches.append(
            {
                "item_id": item.id,
                "filename": item.filename,
                "bank": bank.name,
                "entry_id": row.id,
                "signal_type": row.signal_type,
                "distance": distance,
                "label": row.label,
                "fact_check_url": fact_check_url(base_url, case)
                if case is not None and case.slug
                else row.link,
            }
        )
    names = ", ".join(m["filename"] for m in matches[:5])
    notifications.notify(
        s,
        org_id,
        KIND,
        f"{len(hits)} earlier item(s) match a newly banked fake",
        f"{names}{' …' if len(hits) > 5 else ''} match entries just added to {bank.name}.",
        {"matches": matches},
    )
    data = {"checked_by": "bank_update", "earlier_item": True, "count": len(matches), "matches": matches}
    tlp = most_restrictive(row.tlp for _, row, _ in hits)
    alerts.queue_event(s, org_id, WebhookEvent.MATCH_FOUND, tlp, data, own_org_only=True)
