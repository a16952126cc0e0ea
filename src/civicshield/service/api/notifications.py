"""The organization's inbox (issue 12): threat notifications, acknowledged and resolved by its members."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from civicshield.service.domain import notifications
from civicshield.service.domain.tables import Notification
from civicshield.service.web.deps import DbDep, IdPath, Reviewer, Viewer

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


class NotificationOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    detail: dict[str, Any]
    count: int
    created_at: dt.datetime
    updated_at: dt.datetime
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None


def _out(row: Notification) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        kind=row.kind,
        title=row.title,
        body=row.body,
        detail=dict(row.detail or {}),
        count=row.count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        acknowledged_at=row.acknowledged_at,
        resolved_at=row.resolved_at,
    )


@router.get("", response_model=list[NotificationOut])
def inbox(s: DbDep, who: Viewer, include_resolved: Annotated[bool, Query()] = False) -> list[NotificationOut]:
    """Open notifications, newest first (``include_resolved`` for the history)."""
    return [_out(row) for row in notifications.inbox(s, who, include_resolved=include_resolved)]


@router.post("/{notification_id}/acknowledge", response_model=NotificationOut)
def acknowledge(notification_id: IdPath, s: DbDep, who: Viewer) -> NotificationOut:
    return _out(notifications.acknowledge(s, who, notification_id))


@router.post("/{notification_id}/resolve", response_model=NotificationOut)
def resolve(notification_id: IdPath, s: DbDep, who: Reviewer) -> NotificationOut:
    return _out(notifications.resolve(s, who, notification_id))
