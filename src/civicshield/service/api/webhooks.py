"""Webhooks: an organization's subscriptions to events, their secrets, and the delivery log.

Org admins only (role ``org_admin``, scope ``admin``); another organization's webhook answers 404 on every
route. The secret is shown once, in the answer to creation and to rotation. Receivers verify deliveries with
``civicshield.sharing.verify_delivery`` (see ``sharing/webhooks.py`` for the wire format).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from civicshield.service.api.schemas import Strict
from civicshield.service.domain import subscriptions
from civicshield.service.domain.states import DeliveryState, WebhookEvent
from civicshield.service.domain.tables import Delivery, Webhook, as_utc
from civicshield.service.infra import delivery
from civicshield.service.web.deps import DbDep, IdPath, OrgAdmin, RuntimeDep
from civicshield.sharing.tlp import TLP

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


class WebhookIn(Strict):
    url: str = Field(min_length=1, max_length=subscriptions.MAX_URL)
    events: list[WebhookEvent] = Field(default_factory=list, max_length=16, description="[] = every event")
    max_tlp: TLP = TLP.GREEN
    active: bool = True
    description: str = Field(default="", max_length=200)


class WebhookPatch(Strict):
    url: str | None = Field(default=None, min_length=1, max_length=subscriptions.MAX_URL)
    events: list[WebhookEvent] | None = Field(default=None, max_length=16)
    max_tlp: TLP | None = None
    active: bool | None = None
    description: str | None = Field(default=None, max_length=200)


class RotateIn(Strict):
    grace_s: int = Field(
        default=86_400,
        ge=0,
        le=subscriptions.MAX_GRACE_S,
        description="how long the replaced secret keeps signing deliveries",
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    max_tlp: str
    active: bool
    description: str
    secrets_in_grace: int
    created_at: dt.datetime
    secret: str | None = None  # only in the answers to creation and rotation


class DeliveryOut(BaseModel):
    id: int
    wire_id: str
    webhook_id: int
    event: str
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    redelivery_of: int | None
    created_at: dt.datetime


class DeliveryDetail(DeliveryOut):
    payload: dict[str, object]


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else as_utc(value)


def webhook_out(hook: Webhook, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        url=hook.url,
        events=list(hook.events),
        max_tlp=hook.max_tlp,
        active=hook.active,
        description=hook.description,
        secrets_in_grace=len(subscriptions.live_secrets(hook)) - 1,
        created_at=as_utc(hook.created_at),
        secret=secret,
    )


def delivery_out(row: Delivery) -> DeliveryOut:
    waiting = row.state in ("pending", "sending")
    return DeliveryOut(
        id=row.id,
        wire_id=delivery.wire_id(row.id),
        webhook_id=row.webhook_id,
        event=row.event,
        state=row.state,
        attempts=row.attempts,
        last_status=row.last_status,
        last_error=row.last_error,
        next_attempt_at=_utc(row.next_attempt_at) if waiting else None,
        last_attempt_at=_utc(row.last_attempt_at),
        delivered_at=_utc(row.delivered_at),
        redelivery_of=row.redelivery_of,
        created_at=as_utc(row.created_at),
    )


def webhook_dep(s: DbDep, who: OrgAdmin, webhook_id: IdPath) -> Webhook:
    return subscriptions.get_webhook(s, who, webhook_id)


WebhookDep = Annotated[Webhook, Depends(webhook_dep)]


@router.post("", response_model=WebhookOut, status_code=201)
def create(body: WebhookIn, s: DbDep, who: OrgAdmin, rt: RuntimeDep) -> WebhookOut:
    """Subscribe a URL to events. The answer carries the signing secret: it is not shown again. URLs that name
    or resolve to a loopback, private, link-local or other non-public address are refused (400) unless the
    operator allowed that network."""
    hook = subscriptions.create_webhook(
        s,
        who,
        url=body.url,
        events=body.events,
        max_tlp=body.max_tlp,
        active=body.active,
        description=body.description,
        egress=rt.settings.webhook_egress,
    )
    return webhook_out(hook, secret=hook.secret)


@router.get("", response_model=list[WebhookOut])
def list_all(s: DbDep, who: OrgAdmin) -> list[WebhookOut]:
    return [webhook_out(h) for h in subscriptions.list_webhooks(s, who)]


@router.get("/{webhook_id}", response_model=WebhookOut)
def get(hook: WebhookDep) -> WebhookOut:
    return webhook_out(hook)


@router.patch("/{webhook_id}", response_model=WebhookOut)
def update(body: WebhookPatch, hook: WebhookDep, s: DbDep, who: OrgAdmin, rt: RuntimeDep) -> WebhookOut:
    changes = body.model_dump(exclude_unset=True)
    updated = subscriptions.update_webhook(s, who, hook, **changes, egress=rt.settings.webhook_egress)
    return webhook_out(updated)


@router.delete("/{webhook_id}", status_code=204)
def remove(hook: WebhookDep, s: DbDep, who: OrgAdmin) -> Response:
    subscriptions.delete_webhook(s, who, hook)
    return Response(status_code=204)


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookOut)
def rotate(hook: WebhookDep, s: DbDep, who: OrgAdmin, body: RotateIn | None = None) -> WebhookOut:
    """A new secret (shown once); the old one keeps signing for ``grace_s`` seconds while receivers switch."""
    secret = subscriptions.rotate_secret(s, who, hook, (body or RotateIn()).grace_s)
    return webhook_out(hook, secret=secret)


@router.post("/{webhook_id}/ping", response_model=DeliveryOut, status_code=202)
def ping(hook: WebhookDep, s: DbDep, who: OrgAdmin) -> DeliveryOut:
    """Queue a ``ping`` delivery to this webhook, to test the receiver and its signature check."""
    return delivery_out(subscriptions.ping(s, who, hook))


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut])
def deliveries(
    hook: WebhookDep,
    s: DbDep,
    who: OrgAdmin,
    state: DeliveryState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    """The delivery log, newest first: state, attempts, last HTTP status and error, next attempt."""
    return [delivery_out(d) for d in subscriptions.list_deliveries(s, who, hook, state, limit)]


@router.get("/{webhook_id}/deliveries/{delivery_id}", response_model=DeliveryDetail)
def one_delivery(hook: WebhookDep, delivery_id: IdPath, s: DbDep, who: OrgAdmin) -> DeliveryDetail:
    row = subscriptions.get_delivery(s, who, hook, delivery_id)
    return DeliveryDetail(**delivery_out(row).model_dump(), payload=row.payload)


@router.post("/{webhook_id}/deliveries/{delivery_id}/redeliver", response_model=DeliveryOut, status_code=202)
def redeliver(hook: WebhookDep, delivery_id: IdPath, s: DbDep, who: OrgAdmin) -> DeliveryOut:
    """Send a delivered or failed delivery again, as a new delivery (same event id, new delivery id)."""
    original = subscriptions.get_delivery(s, who, hook, delivery_id)
    return delivery_out(subscriptions.redeliver(s, who, hook, original))
