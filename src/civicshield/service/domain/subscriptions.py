"""Webhook subscriptions: the one write path for ``Webhook`` rows and the reads of their delivery log.

Only org admins manage them, and every read is scoped to the caller's organization: another organization's
webhook or delivery is indistinguishable from a missing one (``NotFound``). Secrets are generated here and
returned once, at creation and rotation. They are stored as generated because signing needs them (unlike API
keys, which are only ever compared). A rotation keeps the replaced secret for a grace period: deliveries are
signed with every live secret, one ``v1`` each, so receivers switch over without rejecting a delivery.

URLs are checked by two parsers (the standard library's and httpx's, which sends) that must agree on the
host, so a URL cannot look like one host here and reach another there. Credentials in a URL are refused:
receivers authenticate us by the signature, and a URL is shown in logs and listings. A URL naming or resolving
to an address that is not public is refused unless the operator allowed its network (``egress``; each
delivery checks again, after resolving the name).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

import httpx
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civicshield.egress import EgressPolicy
from civicshield.errors import Conflict, Forbidden, NotFound, UsageError
from civicshield.service.domain import alerts, audit
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role
from civicshield.service.domain.tables import Delivery, Webhook, as_utc, utcnow
from civicshield.sharing import new_webhook_secret
from civicshield.sharing.tlp import TLP

MAX_URL = 500
MAX_PREVIOUS_SECRETS = 3
MAX_GRACE_S = 7 * 86400
DELIVERY_STATES = ("pending", "sending", "delivered", "failed")


def in_grace(previous: dict[str, str], now: dt.datetime) -> bool:
    """Whether a secret replaced by a rotation still signs (``{"secret", "expires_at"}``)."""
    return as_utc(dt.datetime.fromisoformat(previous["expires_at"])) > now


def live_secrets(hook: Webhook, now: dt.datetime | None = None) -> list[str]:
    """The secrets to sign with, newest first: the current one and those still in their grace period."""
    moment = as_utc(now) if now is not None else utcnow()
    return [hook.secret] + [p["secret"] for p in hook.previous_secrets or [] if in_grace(p, moment)]


def validate_url(url: str, egress: EgressPolicy) -> str:
    url = url.strip()
    if not url or len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise UsageError(f"a webhook URL is 1-{MAX_URL} characters, without spaces or control characters")
    try:
        parts = urlsplit(url)
        _ = parts.port
        sent = httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise UsageError("the webhook URL is malformed") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise UsageError("webhook URLs use http or https")
    if "@" in parts.netloc or sent.userinfo:
        raise UsageError("webhook URLs may not carry credentials: receivers check our signature instead")
    if not parts.hostname or parts.hostname != sent.host.lower():
        raise UsageError("the webhook URL has no unambiguous host")
    if parts.fragment:
        raise UsageError("webhook URLs may not have a #fragment")
    egress.check_url(url)
    return url


def validate_events(events: Iterable[str]) -> list[str]:
    """Known event names, sorted and without duplicates; an empty list subscribes to every event."""
    wanted = sorted(set(events))
    unknown = [e for e in wanted if e not in alerts.EVENTS]
    if unknown:
        raise UsageError(f"unknown events {unknown}; known: {', '.join(alerts.EVENTS)}")
    return wanted


def _tlp(value: TLP | str) -> TLP:
    return TLP.parse(value)


def _admin(who: Principal) -> None:
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("only organization admins manage webhooks")


def create_webhook(
    s: Session,
    who: Principal,
    *,
    url: str,
    events: Sequence[str],
    max_tlp: str = "GREEN",
    active: bool = True,
    description: str = "",
    egress: EgressPolicy,
) -> Webhook:
    """A new subscription with a fresh secret (readable on the returned row: show it once). ``egress`` is the
    service's ``ServiceSettings.webhook_egress``: which addresses the URL may reach."""
    _admin(who)
    hook = Webhook(
        org_id=who.org_id,
        url=validate_url(url, egress),
        secret=new_webhook_secret(),
        events=validate_events(events),
        max_tlp=_tlp(max_tlp),
        active=active,
        description=description[:200],
        previous_secrets=[],
    )
    s.add(hook)
    s.flush()
    audit.record(
        s,
        who.org_id,
        who.actor,
        "webhook.created",
        "webhook",
        hook.id,
        {"url": hook.url, "events": hook.events, "max_tlp": hook.max_tlp},
    )
    return hook


def get_webhook(s: Session, who: Principal, webhook_id: int) -> Webhook:
    _admin(who)
    hook = s.get(Webhook, webhook_id)
    if hook is None or hook.org_id != who.org_id:
        raise NotFound("no such webhook")
    return hook


def list_webhooks(s: Session, who: Principal) -> list[Webhook]:
    _admin(who)
    return list(s.scalars(select(Webhook).where(Webhook.org_id == who.org_id).order_by(Webhook.id)))


def update_webhook(
    s: Session,
    who: Principal,
    hook: Webhook,
    *,
    url: str | None = None,
    events: Sequence[str] | None = None,
    max_tlp: str | None = None,
    active: bool | None = None,
    description: str | None = None,
    egress: EgressPolicy,
) -> Webhook:
    _admin(who)
    if url is not None:
        hook.url = validate_url(url, egress)
    if events is not None:
        hook.events = validate_events(events)
    if max_tlp is not None:
        hook.max_tlp = _tlp(max_tlp)
    if active is not None:
        hook.active = active
    if description is not None:
        hook.description = description[:200]
    audit.record(
        s,
        who.org_id,
        who.actor,
        "webhook.updated",
        "webhook",
        hook.id,
        {"url": hook.url, "events": hook.events, "max_tlp": hook.max_tlp, "active": hook.active},
    )
    return hook


def delete_webhook(s: Session, who: Principal, hook: Webhook) -> None:
    """Remove the subscription and its delivery log; a send in flight records nowhere and is dropped."""
    _admin(who)
    s.execute(delete(Delivery).where(Delivery.webhook_id == hook.id))
    audit.record(s, who.org_id, who.actor, "webhook.deleted", "webhook", hook.id, {"url": hook.url})
    s.delete(hook)
    s.flush()


def rotate_secret(
    s: Session, who: Principal, hook: Webhook, grace_s: int, now: dt.datetime | None = None
) -> str:
    """Replace the secret. For ``grace_s`` seconds more, and no longer, earlier secrets keep signing too, so
    receivers can switch; 0 revokes every earlier secret at once (the one to use after a leak)."""
    _admin(who)
    if not 0 <= grace_s <= MAX_GRACE_S:
        raise UsageError(f"grace_s is between 0 and {MAX_GRACE_S}")
    moment = as_utc(now) if now is not None else utcnow()
    until = (moment + dt.timedelta(seconds=grace_s)).isoformat()
    earlier = [{"secret": hook.secret, "expires_at": until}] + [
        {"secret": p["secret"], "expires_at": min(p["expires_at"], until, key=dt.datetime.fromisoformat)}
        for p in hook.previous_secrets or []
    ]
    kept = [p for p in earlier if in_grace(p, moment)]
    hook.previous_secrets = kept[:MAX_PREVIOUS_SECRETS]  # a new list: JSON columns track assignment only
    hook.secret = new_webhook_secret()
    audit.record(s, who.org_id, who.actor, "webhook.secret_rotated", "webhook", hook.id, {"grace_s": grace_s})
    return hook.secret


def list_deliveries(
    s: Session, who: Principal, hook: Webhook, state: str | None = None, limit: int = 100
) -> list[Delivery]:
    _admin(who)
    q = select(Delivery).where(Delivery.webhook_id == hook.id)
    if state is not None:
        q = q.where(Delivery.state == state)
    return list(s.scalars(q.order_by(Delivery.id.desc()).limit(limit)))


def get_delivery(s: Session, who: Principal, hook: Webhook, delivery_id: int) -> Delivery:
    _admin(who)
    row = s.get(Delivery, delivery_id)
    if row is None or row.webhook_id != hook.id or hook.org_id != who.org_id:
        raise NotFound("no such delivery")
    return row


def redeliver(s: Session, who: Principal, hook: Webhook, original: Delivery) -> Delivery:
    """Send a finished (delivered or failed) delivery again, as a new delivery with a fresh retry budget."""
    _admin(who)
    if original.state not in ("delivered", "failed"):
        raise Conflict(f"delivery {original.id} is still {original.state}; it will be retried by itself")
    again = Delivery(
        webhook_id=hook.id,
        event=original.event,
        payload=original.payload,
        redelivery_of=original.id,
        next_attempt_at=utcnow(),
    )
    s.add(again)
    s.flush()
    audit.record(
        s,
        who.org_id,
        who.actor,
        "webhook.redelivered",
        "delivery",
        again.id,
        {"webhook": hook.id, "of": original.id},
    )
    alerts.announce_after_commit(s)
    return again


def ping(s: Session, who: Principal, hook: Webhook) -> Delivery:
    """A ``ping`` delivery to this webhook only, whatever its events, to test the receiver end to end."""
    _admin(who)
    if not hook.active:
        raise Conflict("the webhook is inactive; activate it before pinging it")
    body = alerts.envelope(s, who.org_id, alerts.PING, TLP.CLEAR, {"webhook_id": hook.id, "message": "pong?"})
    row = Delivery(webhook_id=hook.id, event=alerts.PING, payload=body, next_attempt_at=utcnow())
    s.add(row)
    s.flush()
    alerts.announce_after_commit(s)
    return row
