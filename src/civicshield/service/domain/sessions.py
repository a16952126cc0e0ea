"""Sign-in sessions held server-side: the one write path for ``web_sessions``.

The signed cookie used to carry the user id itself, so signing out only cleared the browser's copy: a copied
cookie kept working for 12 hours (the red-team run created a bank with one after sign-out). Now the cookie
carries a random token; the session row is what counts, and it ends on sign-out, after ``idle_s`` without a
request, ``max_age_s`` after sign-in, when the person changes their password, or when they revoke it from
their list of sessions.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from civicshield.errors import NotFound
from civicshield.service.domain.security import hash_key
from civicshield.service.domain.tables import Organization, User, WebSession, as_utc, utcnow

__all__ = [
    "SessionPolicy",
    "list_for",
    "open_session",
    "record_seen",
    "resolve",
    "revoke",
    "revoke_all",
    "revoke_id",
]


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lives: ``max_age_s`` after sign-in at most, ``idle_s`` after its last request."""

    max_age_s: int = 8 * 3600
    idle_s: int = 30 * 60
    seen_every_s: int = 60  # last_seen_at is written at most this often (a write per request costs a commit)


def open_session(s: Session, user: User, policy: SessionPolicy, *, user_agent: str, address: str) -> str:
    """A new session for ``user``; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    s.add(
        WebSession(
            user_id=user.id,
            token_hash=hash_key(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(seconds=policy.max_age_s),
            user_agent=user_agent[:300],
            address=address[:64],
        )
    )
    s.flush()
    return token


def resolve(
    s: Session, token: str, policy: SessionPolicy, *, record_seen: Callable[[int], None] | None = None
) -> User | None:
    """The active user of a live session, or ``None`` (unknown, revoked, expired or idle too long)."""
    row = s.scalar(select(WebSession).where(WebSession.token_hash == hash_key(token)))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    last_seen = as_utc(row.last_seen_at)
    if now >= as_utc(row.expires_at) or (now - last_seen).total_seconds() > policy.idle_s:
        return None
    user = s.get(User, row.user_id)
    org = s.get(Organization, user.org_id) if user is not None else None
    if user is None or not user.active or org is None or org.suspended_at is not None:
        return None
    if (now - last_seen).total_seconds() > policy.seen_every_s:
        if record_seen is None:
            row.last_seen_at = now
        else:
            record_seen(row.id)
    return user


def record_seen(s: Session, session_id: int) -> None:
    s.execute(update(WebSession).where(WebSession.id == session_id).values(last_seen_at=utcnow()))


def revoke(s: Session, token: str) -> None:
    """End the session of ``token`` (signing out)."""
    s.execute(
        update(WebSession)
        .where(WebSession.token_hash == hash_key(token), WebSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all(s: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every session of a person (password changed, account disabled), except the one of ``keep``."""
    q = update(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
    if keep is not None:
        q = q.where(WebSession.token_hash != hash_key(keep))
    return int(s.execute(q.values(revoked_at=utcnow())).rowcount or 0)  # type: ignore[attr-defined]


def revoke_id(s: Session, user_id: int, session_id: int) -> None:
    """End one of a person's own sessions, from their list."""
    row = s.get(WebSession, session_id)
    if row is None or row.user_id != user_id:
        raise NotFound("no such session")
    if row.revoked_at is None:
        row.revoked_at = utcnow()


def list_for(s: Session, user_id: int, policy: SessionPolicy) -> list[WebSession]:
    """A person's sessions that are still live, newest first."""
    now = utcnow()
    rows = s.scalars(
        select(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .order_by(WebSession.id.desc())
    )
    return [
        r
        for r in rows
        if now < as_utc(r.expires_at) and (now - as_utc(r.last_seen_at)).total_seconds() <= policy.idle_s
    ]
