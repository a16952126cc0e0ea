"""Bringing people and organizations in, and taking them out: the one write path for account links.

* **Set-up link.** On an empty database, ``serve`` prints a one-time link that creates the first operator
  (role ``platform_admin``, in the coalition's ``operator`` organization). ``civicshield admin setup-link``
  prints a new one while no operator exists.
* **Invitations.** An org admin invites into their organization, an operator into any; the person gets a link
  by e-mail, sets their name and password, and is a member. The inviter learns nothing of whether the address
  already has an account: the answer is the same, and such an address gets a notice instead of a link (the
  red-team run found that adding a member revealed accounts of other organizations).
* **Password resets** by e-mail link (the same answer whether the address exists); a reset ends every session.
* **Suspending** an organization (operators) or disabling a member (their admin, or an operator) refuses their
  sign-ins, sessions and keys at once; nothing of their data is deleted.
* **Join requests** from organizations (kind, website, contact, vouching member organization) are vetted by
  operators; approval creates the organization and invites its contact as its admin.

Links carry a random token of which only the sha256 is stored; each works once and expires. Every action is
in the audit log of the organization concerned.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.errors import Conflict, Forbidden, NotFound, UsageError
from civicshield.service.domain import audit, sessions, store
from civicshield.service.domain.mailbox import Outgoing, Postbox
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import NewKey, OrgKind, Role, hash_key, hash_password
from civicshield.service.domain.states import JoinRequestState
from civicshield.service.domain.tables import (
    AccountToken,
    ApiKey,
    JoinRequest,
    Organization,
    User,
    as_utc,
    utcnow,
)

__all__ = [
    "OPERATORS_ORG",
    "accept_invitation",
    "complete_reset",
    "complete_setup",
    "decide_join_request",
    "invitation_link",
    "invite",
    "request_reset",
    "rotate_key",
    "set_org_suspended",
    "set_user_active",
    "setup_link",
    "submit_join_request",
]

OPERATORS_ORG = "Coalition operators"
LIFETIME = {"setup": dt.timedelta(days=1), "invite": dt.timedelta(days=7), "reset": dt.timedelta(hours=1)}
PATHS = {"setup": "/ui/setup/", "invite": "/ui/invitations/", "reset": "/ui/reset/"}


@dataclass(frozen=True)
class LinkTarget:
    """What a valid link is for, as shown on its page before it is used."""

    purpose: str
    email: str
    org_name: str
    role: str


def _issue(
    s: Session,
    purpose: str,
    base_url: str,
    *,
    email: str = "",
    org_id: int | None = None,
    role: str = "",
    user_id: int | None = None,
    created_by: str = "system",
) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    s.add(
        AccountToken(
            purpose=purpose,
            token_hash=hash_key(token),
            email=email,
            org_id=org_id,
            role=role,
            user_id=user_id,
            created_by=created_by,
            created_at=now,
            expires_at=now + LIFETIME[purpose],
        )
    )
    s.flush()
    return base_url.rstrip("/") + PATHS[purpose] + token


def _redeem(s: Session, token: str, purpose: str, *, use: bool) -> AccountToken:
    row = s.scalar(select(AccountToken).where(AccountToken.token_hash == hash_key(token)))
    if row is None or row.purpose != purpose or row.used_at is not None or utcnow() >= as_utc(row.expires_at):
        raise NotFound("this link is not valid: it was used, it expired, or it never existed")
    if use:
        row.used_at = utcnow()
    return row


def describe(s: Session, token: str, purpose: str) -> LinkTarget:
    row = _redeem(s, token, purpose, use=False)
    org = s.get(Organization, row.org_id) if row.org_id else None
    return LinkTarget(purpose, row.email, org.name if org else "", row.role)


# ---- the first operator ---------------------------------------------------------------------------


def _has_operator(s: Session) -> bool:
    return s.scalar(select(User.id).where(User.role == Role.PLATFORM_ADMIN).limit(1)) is not None


def setup_link(s: Session, base_url: str) -> str | None:
    """A one-time link that creates the first operator, while none exists (else ``None``). Earlier set-up
    links stop working: only the newest printed one counts."""
    if _has_operator(s):
        return None
    for old in s.scalars(
        select(AccountToken).where(AccountToken.purpose == "setup", AccountToken.used_at.is_(None))
    ):
        old.used_at = utcnow()
    return _issue(s, "setup", base_url)


def complete_setup(s: Session, token: str, *, email: str, name: str, password: str) -> User:
    _redeem(s, token, "setup", use=True)
    if _has_operator(s):
        raise Conflict("the coalition already has an operator; ask them for an invitation")
    org = s.scalar(select(Organization).where(Organization.name == OPERATORS_ORG))
    if org is None:
        org = store.create_org(s, OPERATORS_ORG, OrgKind.OPERATOR, default_tlp="AMBER")
    user = store.create_user(
        s, org.id, email, name or email, Role.PLATFORM_ADMIN, password, actor="setup-link"
    )
    audit.record(s, org.id, "setup-link", "operator.created", "user", user.id, {"email": user.email})
    return user


# ---- invitations ----------------------------------------------------------------------------------


def _target_org(s: Session, who: Principal, org_id: int | None) -> Organization:
    org_id = org_id or who.org_id
    if org_id != who.org_id and not who.can(Role.PLATFORM_ADMIN):
        raise Forbidden("organization admins invite into their own organization")
    org = s.get(Organization, org_id)
    if org is None:
        raise NotFound("no such organization")
    if org.suspended_at is not None:
        raise Conflict("this organization is suspended")
    return org


def _check_role(who: Principal, role: str) -> Role:
    try:
        wanted = Role(role)
    except ValueError:
        raise UsageError(f"unknown role {role!r}") from None
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("organization admins and operators invite people")
    if not who.role.at_least(wanted):
        raise Forbidden("an invitation cannot give a role above the inviter's")
    return wanted


def invitation_link(
    s: Session, who: Principal, base_url: str, *, email: str, role: str, org_id: int | None = None
) -> str:
    """An invitation link for the caller to pass on (operators, from the CLI)."""
    org = _target_org(s, who, org_id)
    wanted = _check_role(who, role)
    email = email.strip().lower()
    if s.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("this address already has an account")
    link = _issue(s, "invite", base_url, email=email, org_id=org.id, role=wanted, created_by=who.actor)
    audit.record(s, org.id, who.actor, "user.invited", "invitation", email, {"role": str(wanted)})
    return link


def invite(
    s: Session,
    who: Principal,
    mailer: Postbox,
    base_url: str,
    *,
    email: str,
    role: str,
    org_id: int | None = None,
) -> None:
    """Send an invitation by e-mail. The same answer whatever the address: one that already has an account
    gets a notice, not a link, and the inviter cannot tell the difference."""
    if not mailer.enabled:
        raise UsageError("invitations go by e-mail: configure an SMTP server (CIVICSHIELD_SMTP_HOST)")
    org = _target_org(s, who, org_id)
    wanted = _check_role(who, role)
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise UsageError("not an e-mail address")
    audit.record(s, org.id, who.actor, "user.invited", "invitation", email, {"role": str(wanted)})
    if s.scalar(select(User.id).where(User.email == email)) is not None:
        mailer.send(
            Outgoing(
                email,
                f"CivicShield: an invitation to {org.name}",
                f"{org.name} invited this address to CivicShield, but it already has an account.\n"
                "An account belongs to one organization: ask your coalition's operators to move it, or ask "
                f"{org.name} to invite another address.\n",
            )
        )
        return
    link = _issue(s, "invite", base_url, email=email, org_id=org.id, role=wanted, created_by=who.actor)
    mailer.send(
        Outgoing(
            email,
            f"CivicShield: you are invited to {org.name}",
            f"{org.name} invites you to CivicShield as {wanted}.\n\nOpen this link within 7 days to choose "
            f"your name and password (it works once):\n{link}\n\nIf you did not expect this, ignore it.\n",
        )
    )


def accept_invitation(s: Session, token: str, *, name: str, password: str) -> User:
    row = _redeem(s, token, "invite", use=True)
    org = s.get(Organization, row.org_id) if row.org_id else None
    if org is None or org.suspended_at is not None:
        raise Conflict("this organization cannot take new members now")
    user = store.create_user(
        s, org.id, row.email, name.strip() or row.email, row.role, password, actor="invitation"
    )
    audit.record(
        s, org.id, f"invitation:{row.email}", "invitation.accepted", "user", user.id, {"role": row.role}
    )
    return user


# ---- password resets ------------------------------------------------------------------------------


def request_reset(s: Session, mailer: Postbox, base_url: str, email: str) -> None:
    """Mail a reset link if the address has an active account; the same answer either way."""
    if not mailer.enabled:
        raise UsageError("password resets go by e-mail: configure an SMTP server (CIVICSHIELD_SMTP_HOST)")
    user = s.scalar(select(User).where(User.email == email.strip().lower(), User.active.is_(True)))
    if user is None:
        return
    link = _issue(s, "reset", base_url, email=user.email, user_id=user.id, created_by="reset-request")
    audit.record(s, user.org_id, "reset-request", "user.reset_requested", "user", user.id, {})
    mailer.send(
        Outgoing(
            user.email,
            "CivicShield: choose a new password",
            f"Open this link within an hour to choose a new password (it works once):\n{link}\n\n"
            "Every session of yours will end. If you did not ask for this, ignore it: your password stays.\n",
        )
    )


def reset_link(s: Session, who: Principal, base_url: str, user_id: int) -> str:
    """A reset link for an admin or operator to pass on (the CLI, or a person without mail)."""
    user = member_of(s, who, user_id)
    link = _issue(s, "reset", base_url, email=user.email, user_id=user.id, created_by=who.actor)
    audit.record(s, user.org_id, who.actor, "user.reset_issued", "user", user.id, {})
    return link


def complete_reset(s: Session, token: str, password: str) -> User:
    row = _redeem(s, token, "reset", use=True)
    user = s.get(User, row.user_id) if row.user_id else None
    if user is None or not user.active:
        raise NotFound("this link is not valid: it was used, it expired, or it never existed")
    store.check_password_strength(password, context=(user.email, user.name))
    user.password_hash = hash_password(password)
    ended = sessions.revoke_all(s, user.id)
    audit.record(
        s, user.org_id, f"reset:{user.email}", "user.password_reset", "user", user.id, {"ended": ended}
    )
    return user


# ---- suspending and disabling ---------------------------------------------------------------------


def member_of(s: Session, who: Principal, user_id: int) -> User:
    """A member the caller administers (their own organization's, or any for operators), else 404."""
    user = s.get(User, user_id)
    allowed = user is not None and (
        who.can(Role.PLATFORM_ADMIN) or (who.can(Role.ORG_ADMIN) and user.org_id == who.org_id)
    )
    if user is None or not allowed:
        raise NotFound("no such member")
    return user


def set_user_active(s: Session, who: Principal, user_id: int, active: bool) -> User:
    """Disable (or enable again) a member: their sessions end and their keys stop working at once."""
    user = member_of(s, who, user_id)
    if user.id == who.user_id and not active:
        raise Conflict("you cannot disable your own account")
    user.active = active
    ended = 0 if active else sessions.revoke_all(s, user.id)
    action = "user.enabled" if active else "user.disabled"
    audit.record(s, user.org_id, who.actor, action, "user", user.id, {"sessions_ended": ended})
    return user


def set_org_suspended(s: Session, who: Principal, org_id: int, suspended: bool) -> Organization:
    """Operators suspend an organization (its members cannot sign in, its keys are refused) or resume it."""
    if not who.can(Role.PLATFORM_ADMIN):
        raise Forbidden("only operators suspend organizations")
    org = s.get(Organization, org_id)
    if org is None:
        raise NotFound("no such organization")
    if org.id == who.org_id and suspended:
        raise Conflict("operators cannot suspend their own organization")
    org.suspended_at = utcnow() if suspended else None
    if suspended:
        for user_id in s.scalars(select(User.id).where(User.org_id == org.id)):
            sessions.revoke_all(s, user_id)
    action = "org.suspended" if suspended else "org.resumed"
    audit.record(s, org.id, who.actor, action, "organization", org.id, {})
    return org


def rotate_key(s: Session, who: Principal, prefix: str) -> NewKey:
    """A new key with the same name and scopes; the old one is revoked in the same transaction."""
    row = s.scalar(select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.org_id == who.org_id))
    owner = s.get(User, row.user_id) if row is not None else None
    if row is None or row.revoked or owner is None:
        raise NotFound("no such key")
    new = store.create_api_key(s, store.principal_for(owner), row.name, list(row.scopes))  # still the owner's
    store.revoke_api_key(s, who, prefix)
    audit.record(s, row.org_id, who.actor, "api_key.rotated", "api_key", prefix, {"new": new.prefix})
    return new


# ---- join requests --------------------------------------------------------------------------------


def submit_join_request(
    s: Session,
    *,
    org_name: str,
    kind: str,
    website: str,
    contact_name: str,
    contact_email: str,
    vouched_by_org_id: int | None = None,
    note: str = "",
) -> JoinRequest:
    if kind not in set(OrgKind) or kind == OrgKind.OPERATOR:
        raise UsageError(f"unknown organization kind {kind!r}")
    if not website.startswith(("https://", "http://")):
        raise UsageError("the website must be an http(s) address")
    if vouched_by_org_id is not None and s.get(Organization, vouched_by_org_id) is None:
        raise UsageError("the vouching organization is not a member")
    row = JoinRequest(
        org_name=org_name.strip(),
        kind=kind,
        website=website.strip(),
        contact_name=contact_name.strip(),
        contact_email=contact_email.strip().lower(),
        vouched_by_org_id=vouched_by_org_id,
        note=note,
    )
    s.add(row)
    s.flush()
    return row


def decide_join_request(
    s: Session, who: Principal, request_id: int, approve: bool, mailer: Postbox | None, base_url: str
) -> tuple[JoinRequest, str | None]:
    """Approve (create the organization, invite its contact as its admin) or reject a request. Returns the
    request and, when no mail could carry it, the invitation link for the operator to pass on."""
    if not who.can(Role.PLATFORM_ADMIN):
        raise Forbidden("only operators vet join requests")
    row = s.get(JoinRequest, request_id)
    if row is None:
        raise NotFound("no such join request")
    if row.state is not JoinRequestState.PENDING:
        raise Conflict(f"this request was {row.state} already")
    state = JoinRequestState.APPROVED if approve else JoinRequestState.REJECTED
    row.state, row.decided_by, row.decided_at = state, who.actor, utcnow()
    if not approve:
        audit.record(s, who.org_id, who.actor, "join_request.rejected", "join_request", row.id, {})
        return row, None
    org = store.create_org(s, row.org_name, row.kind)
    row.org_id = org.id
    audit.record(
        s,
        org.id,
        who.actor,
        "join_request.approved",
        "join_request",
        row.id,
        {"website": row.website, "vouched_by": row.vouched_by_org_id},
    )
    if mailer is not None and mailer.enabled:
        invite(s, who, mailer, base_url, email=row.contact_email, role=Role.ORG_ADMIN, org_id=org.id)
        return row, None
    return row, invitation_link(s, who, base_url, email=row.contact_email, role=Role.ORG_ADMIN, org_id=org.id)
