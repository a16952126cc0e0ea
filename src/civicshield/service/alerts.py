"""Alerts: queue signed webhook deliveries for an event, respecting TLP.

A webhook receives events of its own organization up to its ``max_tlp``, and events of other
organizations only when they are labelled CLEAR or GREEN (and within its ``max_tlp``). Deliveries are rows:
queued in the same transaction as the change that caused them, sent later by the worker, retried with
backoff, and kept as the delivery log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.service.db.tables import Delivery, Webhook
from civicshield.service.store import TLPS

COMMUNITY = ("CLEAR", "GREEN")


def may_receive(webhook: Webhook, event_org_id: int, tlp: str) -> bool:
    if TLPS.index(tlp) > TLPS.index(webhook.max_tlp):
        return False
    return webhook.org_id == event_org_id or tlp in COMMUNITY


def queue_event(s: Session, org_id: int, event: str, tlp: str, payload: dict[str, Any]) -> list[Delivery]:
    hooks = s.scalars(select(Webhook).where(Webhook.active.is_(True)))
    out = []
    for hook in hooks:
        if (not hook.events or event in hook.events) and may_receive(hook, org_id, tlp):
            d = Delivery(webhook_id=hook.id, event=event, payload={"event": event, "tlp": tlp, "data": payload})
            s.add(d)
            out.append(d)
    s.flush()
    return out
