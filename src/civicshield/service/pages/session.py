"""Who is looking at a page, and the form-friendly CSRF check.

The JSON API's ``current_principal`` wants the CSRF token in an ``X-CSRF-Token`` header, which plain HTML
forms cannot send. Pages accept the same session token from a hidden ``csrf_token`` form field as well
(htmx requests send the header, set once on ``<body hx-headers>``), so every form works without JavaScript.
API keys are not accepted here: pages are for people with a session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from civicshield.errors import CsrfFailed, EnrolmentRequired, Unauthenticated
from civicshield.service.domain import store
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role
from civicshield.service.domain.tables import Organization, User
from civicshield.service.pages import i18n
from civicshield.service.web.deps import (
    SAFE_METHODS,
    runtime,
    session_user,
    start_session,
)

CSRF_FIELD = "csrf_token"
FLASH_KEY = "flash"


class LoginRequired(Exception):
    """Raised by page dependencies when nobody is signed in; the page router answers with the login page."""


class EnrolmentNeeded(Exception):
    """Raised for a person who must set up a second factor first; the page router sends them to do so."""


@dataclass(frozen=True)
class Member:
    """A signed-in person: the principal every store call is scoped by, and what the header shows."""

    who: Principal
    name: str
    org_name: str

    def can(self, role: Role | str) -> bool:
        return self.who.role.at_least(Role(role))


def member(request: Request) -> Member:
    """The signed-in person looking at the page (``web.deps.session_user``, the API's check too)."""
    rt = runtime(request)
    with rt.db.reading() as s:
        try:
            user = session_user(request, s, rt.db)
        except Unauthenticated:
            raise LoginRequired from None
        except EnrolmentRequired:
            raise EnrolmentNeeded from None
        org = s.get(Organization, user.org_id)
        return Member(who=store.principal_for(user), name=user.name, org_name=org.name if org else "")


MemberDep = Annotated[Member, Depends(member)]


def optional_member(request: Request) -> Member | None:
    try:
        return member(request)
    except LoginRequired:
        return None


MaybeMemberDep = Annotated[Member | None, Depends(optional_member)]


async def check_csrf(request: Request) -> None:
    """Unsafe methods must echo the session's token (header or form field)."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token", "")
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    expected = str(request.session.get("csrf", ""))
    if not expected or not secrets.compare_digest(sent, expected):
        raise CsrfFailed("the form has expired; reload the page and try again")


def sign_in(request: Request, s: Session, user: User) -> None:
    """A fresh server-side session (no fixation) that remembers the person's language."""
    start_session(request, s, user)
    request.session[i18n.SESSION_KEY] = i18n.supported(user.language) or i18n.DEFAULT


def flash(request: Request, kind: str, text: str) -> None:
    """Keep a one-time message for the next page (after a redirect)."""
    messages = list(request.session.get(FLASH_KEY, []))[-4:]
    messages.append([kind, text])
    request.session[FLASH_KEY] = messages


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    return [(str(k), str(t)) for k, t in request.session.pop(FLASH_KEY, [])]
