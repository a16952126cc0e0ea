"""FastAPI dependencies as ``Annotated`` aliases. Authorization lives here: ``CaseDep`` returns a case the
caller may see or answers 404, so routes never repeat ownership checks."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from civicshield.errors import CsrfFailed, Forbidden, RateLimited, Unauthenticated
from civicshield.service import store
from civicshield.service.db.tables import Case, User
from civicshield.service.jobs import Runtime
from civicshield.service.principal import Principal
from civicshield.service.security import Role, Scope

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.rt
    return rt


def db_session(request: Request) -> Iterator[Session]:
    with runtime(request).db.session() as s:
        yield s


DbDep = Annotated[Session, Depends(db_session)]
RuntimeDep = Annotated[Runtime, Depends(runtime)]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def current_principal(request: Request, s: DbDep) -> Principal:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        found = store.resolve_api_key(s, auth[7:].strip())
        if found is None:
            raise Unauthenticated("invalid or revoked API key")
        return found
    user_id = request.session.get("user_id")
    if user_id is None:
        raise Unauthenticated("log in or send an API key (Authorization: Bearer cs_...)")
    user = s.get(User, int(user_id))
    if user is None or not user.active:
        request.session.clear()
        raise Unauthenticated("session expired")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        expected = str(request.session.get("csrf", ""))
        if not expected or not secrets.compare_digest(sent, expected):
            raise CsrfFailed("missing or wrong X-CSRF-Token header")
    return store.principal_for(user)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def requires(role: Role, scope: Scope | None = None):  # type: ignore[no-untyped-def]
    def check(who: PrincipalDep) -> Principal:
        if not who.can(role, scope):
            raise Forbidden(f"needs role {role} or above" + (f" and scope {scope}" if scope else ""))
        return who

    return check


Viewer = Annotated[Principal, Depends(requires(Role.VIEWER, Scope.READ))]
Submitter = Annotated[Principal, Depends(requires(Role.ANALYST, Scope.SUBMIT))]
Matcher = Annotated[Principal, Depends(requires(Role.VIEWER, Scope.MATCH))]
Reviewer = Annotated[Principal, Depends(requires(Role.ANALYST, Scope.REVIEW))]
OrgAdmin = Annotated[Principal, Depends(requires(Role.ORG_ADMIN, Scope.ADMIN))]


IdPath = Annotated[int, Path(ge=1, le=2_147_483_647, description="database id")]


def case_dep(s: DbDep, who: Viewer, case_id: IdPath) -> Case:
    return store.get_case(s, who, case_id)


CaseDep = Annotated[Case, Depends(case_dep)]


def rate_limit(request: Request) -> None:
    limiter = request.app.state.limiter
    client = request.client.host if request.client else "unknown"
    if not limiter.allow(client):
        raise RateLimited("too many requests; slow down")


RateLimit = Depends(rate_limit)
