"""An organization's audit log: read it, export signed checkpoints of it, and verify it (org admins).

``GET /verify`` checks the chain against the checkpoints the service keeps; ``POST /verify`` checks it
against checkpoints the organization exported earlier and kept itself, which also catches checkpoints
deleted from the service's database (``service.audit_anchor``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from civicshield.errors import UsageError
from civicshield.service.domain import audit_anchor
from civicshield.service.domain.tables import AuditEvent
from civicshield.service.web.deps import DbDep, OrgAdmin, RuntimeDep

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class CheckpointsIn(BaseModel):
    checkpoints: list[dict[str, Any]] = Field(min_length=1, max_length=100_000)


@router.get("/events")
def events(
    s: DbDep,
    who: OrgAdmin,
    after: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """The organization's audit events after ``after`` (a seq), oldest first, with their chain hashes."""
    rows = s.scalars(
        select(AuditEvent)
        .where(AuditEvent.org_id == who.org_id, AuditEvent.seq > after)
        .order_by(AuditEvent.seq)
        .limit(limit)
    )
    return [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "payload": e.payload,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in rows
    ]


@router.get("/checkpoints")
def checkpoints(s: DbDep, rt: RuntimeDep, who: OrgAdmin) -> dict[str, Any]:
    """The signed checkpoints of the organization's log and the public key that verifies them: keep a copy."""
    key = audit_anchor.service_key(rt.settings.audit_key_path)
    return {
        "key_id": key.key_id,
        "public_key": key.public_pem(),
        "checkpoints": [c.to_dict() for c in audit_anchor.stored(s, who.org_id)],
    }


@router.post("/checkpoints", status_code=201)
def sign_now(s: DbDep, rt: RuntimeDep, who: OrgAdmin) -> dict[str, Any]:
    """Sign the current head now (the worker also does so every few minutes)."""
    made = audit_anchor.checkpoint(s, who.org_id, audit_anchor.service_key(rt.settings.audit_key_path))
    if made is None:
        raise UsageError("the audit log is empty")
    return made.to_dict()


@router.get("/verify")
def verify_stored(s: DbDep, rt: RuntimeDep, who: OrgAdmin) -> dict[str, Any]:
    key = audit_anchor.service_key(rt.settings.audit_key_path)
    found = audit_anchor.stored(s, who.org_id)
    return audit_anchor.verify(s, who.org_id, found, key.private.public_key()).to_dict()


@router.post("/verify")
def verify_kept(body: CheckpointsIn, s: DbDep, rt: RuntimeDep, who: OrgAdmin) -> dict[str, Any]:
    """Verify against checkpoints the organization kept (as exported by ``GET /checkpoints``)."""
    try:
        kept = [audit_anchor.Checkpoint.from_dict(c) for c in body.checkpoints]
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"malformed checkpoint: {exc}") from exc
    key = audit_anchor.service_key(rt.settings.audit_key_path)
    return audit_anchor.verify(s, who.org_id, kept, key.private.public_key()).to_dict()
