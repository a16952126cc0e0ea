"""A person's own security: their second factor (an authenticator app) and recovery codes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from civicshield.service.domain import mfa, passkeys, sessions
from civicshield.service.domain.security import hash_key
from civicshield.service.domain.tables import User
from civicshield.service.pages.routing import page_router
from civicshield.service.pages.session import Member, MemberDep
from civicshield.service.pages.templating import render
from civicshield.service.web.deps import DbDep, current_token, runtime

router = page_router("/ui/account")


def _page(request: Request, s: Session, member: Member, **extra: Any) -> Response:
    user = s.get(User, member.who.user_id)
    enrolled = bool(user and mfa.enrolled(user))
    required = bool(user and mfa.required(s, user))
    keys = passkeys.listing(s, member.who.user_id)
    live = sessions.list_for(s, member.who.user_id, runtime(request).settings.sessions)
    current = hash_key(current_token(request) or "")
    return render(
        request,
        "account_security.html.j2",
        member=member,
        enrolled=enrolled,
        required=required,
        passkeys=keys,
        sessions=[(row, row.token_hash == current) for row in live],
        **extra,
    )


@router.get("/security")
def security(request: Request, member: MemberDep, s: DbDep) -> Response:
    return _page(request, s, member)


@router.post("/security/totp")
def begin(request: Request, member: MemberDep, s: DbDep) -> Response:
    rt = runtime(request)
    user = s.get(User, member.who.user_id)
    assert user is not None
    enrolment = mfa.begin(s, user, rt.settings.secret_key)
    return _page(request, s, member, secret=enrolment.secret, uri=enrolment.uri)


@router.post("/security/totp/confirm")
def confirm(
    request: Request, member: MemberDep, s: DbDep, code: Annotated[str, Form(max_length=64)]
) -> Response:
    rt = runtime(request)
    user = s.get(User, member.who.user_id)
    assert user is not None
    codes = mfa.confirm(s, user, rt.settings.secret_key, code)
    return _page(request, s, member, recovery_codes=codes)


@router.post("/sessions/{session_id}/end")
def end_session_page(request: Request, member: MemberDep, s: DbDep, session_id: int) -> Response:
    sessions.revoke_id(s, member.who.user_id, session_id)
    return RedirectResponse("/ui/account/security", status_code=303)
