"""Workshops and webinars for the coalition (issue 12): the one write path for events, their sessions and
registrations.

Any organization admin (or operator) organizes an event for the whole coalition: sessions with a time and a
place, a capacity per session, materials. Members of every organization see events and register for a
session (never past its capacity); the organizer marks who attended; an attendee rates the session (1-5)
and says what to improve. ``summary`` gives the organizer the numbers a programme is judged by:
registrations, attendance and feedback per session and per organization. Every change is audited.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield.errors import Conflict, Forbidden, NotFound, UsageError
from civicshield.service.domain import audit
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role
from civicshield.service.domain.tables import Event, EventSession, Organization, Registration, User

__all__ = [
    "KINDS",
    "SessionIn",
    "Summary",
    "add_material",
    "create_event",
    "event_of",
    "feedback",
    "list_events",
    "mark_attended",
    "register",
    "registrations_of",
    "sessions_of",
    "summary",
    "unregister",
]

KINDS = ("workshop", "webinar")
MAX_SESSIONS = 20


@dataclass(frozen=True)
class SessionIn:
    starts_at: dt.datetime
    minutes: int = 60
    place: str = ""


def create_event(
    s: Session,
    who: Principal,
    *,
    kind: str,
    title: str,
    description: str = "",
    language: str = "en",
    capacity: int = 30,
    sessions: list[SessionIn],
) -> Event:
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("organization admins and operators organize events")
    if kind not in KINDS:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}")
    if not title.strip() or not 1 <= capacity <= 10_000:
        raise UsageError("an event needs a title and a capacity between 1 and 10000")
    if not 1 <= len(sessions) <= MAX_SESSIONS or any(not 5 <= x.minutes <= 24 * 60 for x in sessions):
        raise UsageError(f"an event has 1 to {MAX_SESSIONS} sessions of 5 minutes to a day")
    if any(x.starts_at.tzinfo is None for x in sessions):
        raise UsageError("session times need a time zone")
    event = Event(
        org_id=who.org_id,
        kind=kind,
        title=" ".join(title.split())[:300],
        description=description.strip()[:8000],
        language=language[:5],
        capacity=capacity,
        materials=[],
        created_by=who.actor,
    )
    s.add(event)
    s.flush()
    for x in sessions:
        s.add(
            EventSession(
                event_id=event.id, starts_at=x.starts_at, minutes=x.minutes, place=x.place.strip()[:500]
            )
        )
    s.flush()
    audit.record(s, who.org_id, who.actor, "event.created", "event", event.id, {"kind": kind})
    return event


def list_events(s: Session, who: Principal) -> list[Event]:
    """Every member sees the coalition's events (they are for all members), newest first."""
    return list(
        s.scalars(select(Event).where(Event.cancelled_at.is_(None)).order_by(Event.id.desc()).limit(200))
    )


def event_of(s: Session, who: Principal, event_id: int) -> Event:
    event = s.get(Event, event_id)
    if event is None or event.cancelled_at is not None:
        raise NotFound("no such event")
    return event


def sessions_of(s: Session, event: Event) -> list[EventSession]:
    query = select(EventSession).where(EventSession.event_id == event.id).order_by(EventSession.starts_at)
    return list(s.scalars(query))


def _organizer(who: Principal, event: Event) -> None:
    if not (who.org_id == event.org_id and who.can(Role.ORG_ADMIN)) and not who.can(Role.PLATFORM_ADMIN):
        raise Forbidden("only the organizing organization's admins manage this event")


def _session(s: Session, event: Event, session_id: int) -> EventSession:
    row = s.get(EventSession, session_id)
    if row is None or row.event_id != event.id:
        raise NotFound("no such session")
    return row


def register(s: Session, who: Principal, event_id: int, session_id: int) -> Registration:
    event = event_of(s, who, event_id)
    session = _session(s, event, session_id)
    existing = s.scalar(
        select(Registration).where(Registration.session_id == session.id, Registration.user_id == who.user_id)
    )
    if existing is not None:
        return existing
    taken = s.scalar(
        select(func.count()).select_from(Registration).where(Registration.session_id == session.id)
    )
    if (taken or 0) >= event.capacity:
        raise Conflict("the session is full")
    row = Registration(session_id=session.id, user_id=who.user_id, org_id=who.org_id)
    s.add(row)
    s.flush()
    audit.record(s, who.org_id, who.actor, "event.registered", "registration", row.id, {"event": event.id})
    return row


def unregister(s: Session, who: Principal, event_id: int, session_id: int) -> None:
    event = event_of(s, who, event_id)
    session = _session(s, event, session_id)
    row = s.scalar(
        select(Registration).where(Registration.session_id == session.id, Registration.user_id == who.user_id)
    )
    if row is None:
        raise NotFound("not registered for this session")
    s.delete(row)
    audit.record(s, who.org_id, who.actor, "event.unregistered", "registration", row.id, {"event": event.id})


def _registration(s: Session, event: Event, registration_id: int) -> Registration:
    row = s.get(Registration, registration_id)
    if row is None:
        raise NotFound("no such registration")
    _session(s, event, row.session_id)  # NotFound when it belongs to another event
    return row


def mark_attended(
    s: Session, who: Principal, event_id: int, registration_id: int, attended: bool
) -> Registration:
    event = event_of(s, who, event_id)
    _organizer(who, event)
    row = _registration(s, event, registration_id)
    row.attended = attended
    audit.record(s, who.org_id, who.actor, "event.attendance", "registration", row.id, {"attended": attended})
    return row


def feedback(
    s: Session, who: Principal, event_id: int, session_id: int, rating: int, text: str = ""
) -> Registration:
    """An attendee's rating (1-5) of a session they attended."""
    event = event_of(s, who, event_id)
    session = _session(s, event, session_id)
    row = s.scalar(
        select(Registration).where(Registration.session_id == session.id, Registration.user_id == who.user_id)
    )
    if row is None or not row.attended:
        raise Forbidden("only attendees give feedback on a session")
    if not 1 <= rating <= 5:
        raise UsageError("the rating is 1 to 5")
    row.feedback_rating, row.feedback_text = rating, text.strip()[:4000]
    audit.record(s, who.org_id, who.actor, "event.feedback", "registration", row.id, {"rating": rating})
    return row


def add_material(s: Session, who: Principal, event_id: int, title: str, url: str) -> Event:
    event = event_of(s, who, event_id)
    _organizer(who, event)
    if not title.strip() or not url.startswith(("https://", "http://", "/")):
        raise UsageError("a material needs a title and a link (https://… or a path on this site)")
    event.materials = [*(event.materials or []), {"title": title.strip()[:300], "url": url.strip()[:2000]}]
    audit.record(s, who.org_id, who.actor, "event.material_added", "event", event.id, {})
    return event


def registrations_of(s: Session, who: Principal, event: Event) -> list[tuple[Registration, str, str]]:
    """The organizer's view: each registration with the member's name and organization."""
    _organizer(who, event)
    query = (
        select(Registration, User.name, Organization.name)
        .join(EventSession, EventSession.id == Registration.session_id)
        .join(User, User.id == Registration.user_id)
        .join(Organization, Organization.id == Registration.org_id)
        .where(EventSession.event_id == event.id)
        .order_by(Registration.id)
    )
    return [(r, user, org) for r, user, org in s.execute(query)]


@dataclass(frozen=True)
class Summary:
    registered: int
    attended: int
    feedback: int
    mean_rating: float | None
    by_organization: dict[str, dict[str, int]]
    comments: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "registered": self.registered,
            "attended": self.attended,
            "feedback": self.feedback,
            "mean_rating": self.mean_rating,
            "by_organization": self.by_organization,
            "comments": list(self.comments),
        }


def summary(s: Session, who: Principal, event_id: int) -> Summary:
    event = event_of(s, who, event_id)
    rows = registrations_of(s, who, event)
    ratings = [r.feedback_rating for r, _, _ in rows if r.feedback_rating is not None]
    registered: Counter[str] = Counter(org for _, _, org in rows)
    attended: Counter[str] = Counter(org for r, _, org in rows if r.attended)
    return Summary(
        registered=len(rows),
        attended=sum(1 for r, _, _ in rows if r.attended),
        feedback=len(ratings),
        mean_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
        by_organization={
            org: {"registered": n, "attended": attended[org]} for org, n in sorted(registered.items())
        },
        comments=tuple(r.feedback_text for r, _, _ in rows if r.feedback_text),
    )
