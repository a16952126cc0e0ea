"""Append-only, hash-chained audit log per organization.

Each event's ``hash`` is sha256 over the previous hash and the canonical JSON of the event, so editing or
deleting any past row breaks every later hash. ``verify_chain`` recomputes it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield.service.domain.tables import AuditEvent, as_utc, utcnow

GENESIS = "0" * 64
AUDIT_LOCK_CLASS = 7301  # the first key of the advisory lock that serializes an organization's appends


def _digest(
    prev: str,
    seq: int,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: dict[str, Any],
    at: str,
) -> str:
    canonical = json.dumps(
        {
            "seq": seq,
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "payload": payload,
            "at": at,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev + canonical).encode()).hexdigest()


def record(
    session: Session,
    org_id: int,
    actor: str,
    action: str,
    object_type: str,
    object_id: object,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to ``org_id``'s chain, in the caller's transaction.

    Appends are serialized per organization before the chain's head is read: a concurrent writer waits until
    the first commits and then reads the new head. On PostgreSQL that is a transaction-scoped advisory lock
    on the organization. Locking the head row is not enough (the waiter gets the old head back after the
    lock and collides on ``(org_id, seq)``; an empty chain has no row to lock), and locking the
    organization's row deadlocked under load: inserting an item already holds a key-share lock on that row
    through its foreign key, and two such transactions then waited on each other to upgrade it. SQLite
    serializes writers with ``BEGIN IMMEDIATE`` (``db.engine``)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(AUDIT_LOCK_CLASS, org_id)))
    last = session.scalars(
        select(AuditEvent).where(AuditEvent.org_id == org_id).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    at = utcnow().replace(microsecond=0)
    body = dict(payload or {})
    event = AuditEvent(
        org_id=org_id,
        seq=seq,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        payload=body,
        at=at,
        prev_hash=prev,
        hash=_digest(prev, seq, actor, action, object_type, str(object_id), body, at.isoformat()),
    )
    session.add(event)
    session.flush()
    return event


def verify_chain(session: Session, org_id: int) -> int | None:
    """``None`` when the chain is intact, else the ``seq`` of the first broken event."""
    prev = GENESIS
    expected_seq = 1
    for ev in session.scalars(select(AuditEvent).where(AuditEvent.org_id == org_id).order_by(AuditEvent.seq)):
        at = as_utc(ev.at).isoformat()
        if (
            ev.seq != expected_seq
            or ev.prev_hash != prev
            or ev.hash
            != _digest(prev, ev.seq, ev.actor, ev.action, ev.object_type, ev.object_id, ev.payload, at)
        ):
            return ev.seq
        prev = ev.hash
        expected_seq += 1
    return None
