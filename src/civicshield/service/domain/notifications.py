"""An organization's inbox, and the one place threat notifications are raised (issue 12).

``impersonation_detected``: an item another member submitted impersonates one of the organization's protected
people or domains. The protected organization learns what concerns it — which of its entries, and the link or
name found — and about the item only what the submitter's sharing label allows: with a community label
(CLEAR, GREEN) the submitting organization and the item's sha256, otherwise just that "a member organization"
found it. The same item and entry again fold into one notification (``count``) until it is resolved. Each
raise also queues the ``impersonation.detected`` webhook event for the protected organization only, and a new
notification is mailed to its admins and its security contact (``mail_for``; sent by the job once committed).

Every notification names the shipped playbook for what was found (``detail["playbook"]``: a lookalike domain
opens the phishing playbook, a cloned voice the voice-clone one), which a member opens as a plan in one click.
A flood is folded too: past ``MAX_NEW_PER_HOUR`` new notifications in an hour, further ones fold into one
"more impersonations" notification until the hour is over, so an inbox and its admins' mail stay usable
during a campaign.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield.errors import Forbidden, NotFound
from civicshield.protection.guidance import guidance
from civicshield.service.domain import alerts, audit
from civicshield.service.domain.mailbox import Outgoing
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role
from civicshield.service.domain.states import WebhookEvent
from civicshield.service.domain.tables import Notification, Organization, ProtectionEnrolment, User, utcnow
from civicshield.sharing.tlp import TLP, Audience, may_share
from civicshield.signals import Signal

__all__ = [
    "MAX_NEW_PER_HOUR",
    "acknowledge",
    "impersonation_detected",
    "inbox",
    "mail_for",
    "notify",
    "own",
    "resolve",
]

KIND = "impersonation_detected"
MAX_NEW_PER_HOUR = 20


def impersonation_detected(
    s: Session, protected_org_id: int, signal: Signal, *, submitter_org_id: int, item_sha256: str
) -> Notification:
    """Tell ``protected_org_id`` that an item submitted by ``submitter_org_id`` impersonates it."""
    submitter = s.get(Organization, submitter_org_id)
    label = submitter.default_tlp if submitter is not None else TLP.RED
    shared = may_share(label, audience=Audience.COMMUNITY)
    who = f"{submitter.name}" if shared and submitter is not None else "A member organization"
    found = [f.message for f in signal.findings][:10]
    detail: dict[str, Any] = {"found": found, "submitter_tlp": str(label)}
    playbook = guidance().playbook_for(f.code for f in signal.findings)
    if playbook is not None:
        detail["playbook"] = playbook.id
    if shared:
        detail.update(item_sha256=item_sha256, submitted_by=who)
    title = f"{who} found an item that impersonates you"
    body = "; ".join(found)
    key = hashlib.sha256(f"{KIND}|{protected_org_id}|{item_sha256}|{body}".encode()).hexdigest()
    row = s.scalar(
        select(Notification).where(
            Notification.org_id == protected_org_id,
            Notification.fold_key == key,
            Notification.resolved_at.is_(None),
        )
    )
    if row is None and _new_in_last_hour(s, protected_org_id) >= MAX_NEW_PER_HOUR:
        key = hashlib.sha256(f"{KIND}|{protected_org_id}|flood|{utcnow():%Y-%m-%dT%H}".encode()).hexdigest()
        row = s.scalar(select(Notification).where(Notification.fold_key == key))
        if row is None:
            title, body = "More impersonations than an inbox can show", f"Also found: {body}"
    if row is not None:
        row.count += 1
        row.updated_at = utcnow()
        return row
    row = notify(s, protected_org_id, KIND, title, body, detail, fold_key=key)
    payload = {"notification_id": row.id, "title": row.title, **detail}
    alerts.queue_event(
        s, protected_org_id, WebhookEvent.IMPERSONATION_DETECTED, TLP.AMBER, payload, own_org_only=True
    )
    return row


def notify(
    s: Session, org_id: int, kind: str, title: str, body: str, detail: dict[str, Any], *, fold_key: str = ""
) -> Notification:
    """A new inbox line, audited: the one place notifications are written (``impersonation_detected`` folds
    repeats into an open line first and passes its ``fold_key``)."""
    key = fold_key or hashlib.sha256(f"{kind}|{org_id}|{title}|{body}".encode()).hexdigest()
    row = Notification(org_id=org_id, kind=kind, title=title[:300], body=body, detail=detail, fold_key=key)
    s.add(row)
    s.flush()
    audit.record(s, org_id, "system", "notification.raised", "notification", row.id, {"kind": kind})
    return row


def _new_in_last_hour(s: Session, org_id: int) -> int:
    since = utcnow() - dt.timedelta(hours=1)
    query = select(func.count()).where(Notification.org_id == org_id, Notification.created_at >= since)
    return int(s.scalar(query.select_from(Notification)) or 0)


def mail_for(s: Session, notification: Notification, base_url: str) -> list[Outgoing]:
    """The e-mail telling the organization's active admins and its security contact of a new notification
    (what the inbox says, with the link to its playbook)."""
    admins = s.scalars(
        select(User).where(
            User.org_id == notification.org_id, User.role == Role.ORG_ADMIN, User.active.is_(True)
        )
    )
    recipients = [user.email for user in admins]
    programme = s.scalar(select(ProtectionEnrolment).where(ProtectionEnrolment.org_id == notification.org_id))
    if programme is not None and programme.contact_email not in recipients:
        recipients.append(programme.contact_email)
    base = base_url.rstrip("/")
    playbook = guidance().playbook(str((notification.detail or {}).get("playbook", "")))
    plan = (
        f"What to do now: {playbook.title.en} — {base}/ui/protection/notifications/{notification.id}/plan\n"
        if playbook is not None
        else ""
    )
    text = (
        f"{notification.title}.\n\n{notification.body}\n\n{plan}"
        f"The notification is in your organization's inbox: {base}/ui/protection\n"
        "Acknowledge it there, and resolve it once handled.\n"
    )
    subject = f"[CivicShield] Suspected impersonation: {notification.title}"[:200]
    return [Outgoing(to=address, subject=subject, body=text) for address in recipients]


def inbox(s: Session, who: Principal, *, include_resolved: bool = False) -> list[Notification]:
    query = select(Notification).where(Notification.org_id == who.org_id)
    if not include_resolved:
        query = query.where(Notification.resolved_at.is_(None))
    return list(s.scalars(query.order_by(Notification.updated_at.desc(), Notification.id.desc()).limit(500)))


def own(s: Session, who: Principal, notification_id: int) -> Notification:
    """The caller's organization's notification (``NotFound`` for anyone else's)."""
    row = s.get(Notification, notification_id)
    if row is None or row.org_id != who.org_id:
        raise NotFound("no such notification")
    return row


def acknowledge(s: Session, who: Principal, notification_id: int) -> Notification:
    row = own(s, who, notification_id)
    if row.acknowledged_at is None:
        row.acknowledged_at = utcnow()
        audit.record(s, who.org_id, who.actor, "notification.acknowledged", "notification", row.id, {})
    return row


def resolve(s: Session, who: Principal, notification_id: int) -> Notification:
    if not who.can(Role.ANALYST):
        raise Forbidden("analysts and above resolve notifications")
    row = own(s, who, notification_id)
    if row.resolved_at is None:
        row.resolved_at = utcnow()
        row.acknowledged_at = row.acknowledged_at or row.resolved_at
        audit.record(s, who.org_id, who.actor, "notification.resolved", "notification", row.id, {})
    return row
