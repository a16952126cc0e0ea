"""Alerts: queue signed webhook deliveries for an event, respecting TLP.

A webhook receives events of its own organization up to its ``max_tlp``, and events of other
organizations only when they are labelled CLEAR or GREEN (and within its ``max_tlp``). Deliveries are rows:
queued in the same transaction as the change that caused them, so an event is never announced for a change
that rolled back nor lost for one that committed. ``delivery`` sends them later (a Celery task sent once
the transaction commits, plus the worker's periodic sweep) and retries with backoff; the rows are the log.

Every delivery body is an envelope around the event's data::

    {"id": "dlv_42", "event": "case.published", "event_id": "…", "occurred_at": "…", "tlp": "GREEN",
     "org": {"id": 1, "name": "factcheck-org"}, "data": {…}}

``event_id`` is the same for every delivery (and redelivery) of one event, so receivers can de-duplicate.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.errors import UsageError
from civicshield.service import delivery
from civicshield.service.db.tables import BankEntryRow, BankRow, Delivery, Organization, Webhook, utcnow
from civicshield.service.store import TLPS

COMMUNITY = ("CLEAR", "GREEN")
EVENTS = ("case.published", "bank.entry_added", "match.found")
PING = "ping"
MAX_ENTRIES_IN_EVENT = 100  # receivers page through the bank API for more


def may_receive(webhook: Webhook, event_org_id: int, tlp: str) -> bool:
    if TLPS.index(tlp) > TLPS.index(webhook.max_tlp):
        return False
    return webhook.org_id == event_org_id or tlp in COMMUNITY


def envelope(s: Session, org_id: int, event: str, tlp: str, data: dict[str, Any]) -> dict[str, Any]:
    """What every delivery of this event carries (the wire ``id`` is added per delivery when sent)."""
    org = s.get(Organization, org_id)
    return {
        "event": event,
        "event_id": uuid.uuid4().hex,
        "occurred_at": utcnow().isoformat(),
        "tlp": tlp,
        "org": {"id": org_id, "name": org.name if org else None},
        "data": data,
    }


def queue_event(s: Session, org_id: int, event: str, tlp: str, payload: dict[str, Any]) -> list[Delivery]:
    """One pending delivery per active webhook subscribed to ``event`` and allowed to see ``tlp``."""
    if tlp not in TLPS:
        raise UsageError(f"unknown TLP {tlp!r}")
    body = envelope(s, org_id, event, tlp, payload)
    out = []
    for hook in s.scalars(select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)):
        if (not hook.events or event in hook.events) and may_receive(hook, org_id, tlp):
            d = Delivery(webhook_id=hook.id, event=event, payload=body, next_attempt_at=utcnow())
            s.add(d)
            out.append(d)
    s.flush()
    if out:
        delivery.kick_after_commit(s)
    return out


def bank_entries_added(s: Session, bank: BankRow, rows: Sequence[BankEntryRow]) -> list[Delivery]:
    """``bank.entry_added`` for entries just added, labelled with the most restrictive TLP among them."""
    if not rows:
        return []
    tlp = max((r.tlp for r in rows), key=TLPS.index)
    entries = [
        {
            "id": r.id,
            "signal_type": r.signal_type,
            "hash": r.value,
            "label": r.label,
            "link": r.link or None,
            "tlp": r.tlp,
            "case_id": r.case_id,
        }
        for r in rows[:MAX_ENTRIES_IN_EVENT]
    ]
    data = {
        "bank": {"id": bank.id, "name": bank.name, "kind": bank.kind, "tlp": bank.tlp},
        "count": len(rows),
        "entries": entries,
        "truncated": len(rows) > MAX_ENTRIES_IN_EVENT,
    }
    return queue_event(s, bank.org_id, "bank.entry_added", tlp, data)
