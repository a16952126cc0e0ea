"""FastAPI dependencies as ``Annotated`` aliases. Authorization lives here: ``CaseDep`` returns a case the
caller may see or answers 404, so routes never repeat ownership checks."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from civicshield.errors import CsrfFailed, EnrolmentRequired, Forbidden, RateLimited, Unauthenticated
from civicshield.service.domain import mfa, sessions, store
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role, Scope
from civicshield.service.domain.tables import Case, User
from civicshield.service.infra.db.engine import Database
from civicshield.service.infra.runtime import Runtime

T = TypeVar("T")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SESSION_KEY = "sid"  # the session token in the signed cookie (``service.sessions``)
#: What a session that must enrol a second factor may still reach ("/x/" covers what is below it).
ENROLMENT_PATHS = ("/api/v1/me", "/api/v1/me/", "/api/v1/session", "/ui/account/", "/ui/logout")


def enrolment_allowed(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in ENROLMENT_PATHS)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.rt
    return rt


def db_session(request: Request) -> Iterator[Session]:
    """The request's transaction. Safe methods read; the rest may write. It commits when the route function
    returns, before the response is sent (``scope="function"``): a 201 means the row is there for the next
    request, and a failing commit becomes an error response instead of a reset connection."""
    db = runtime(request).db
    with db.reading() if request.method in SAFE_METHODS else db.session() as s:
        yield s


async def _runtime(request: Request) -> Runtime:
    return runtime(request)  # a coroutine: FastAPI runs it on the loop, not in a worker thread


DbDep = Annotated[Session, Depends(db_session, scope="function")]
RuntimeDep = Annotated[Runtime, Depends(_runtime)]


def start_session(request: Request, s: Session, user: User) -> None:
    """Sign ``user`` in: a new server-side session in a fresh cookie (no fixation)."""
    request.session.clear()
    request.session[SESSION_KEY] = sessions.open_session(
        s,
        user,
        runtime(request).settings.sessions,
        user_agent=request.headers.get("user-agent", ""),
        address=request.client.host if request.client else "",
    )


def end_session(request: Request, s: Session) -> None:
    """Sign out: the server-side session ends, so a copy of the cookie is worth nothing."""
    token = request.session.get(SESSION_KEY)
    if token:
        sessions.revoke(s, str(token))
    request.session.clear()


def current_token(request: Request) -> str | None:
    token = request.session.get(SESSION_KEY)
    return str(token) if token else None


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


async def current_principal(request: Request) -> Principal:
    """Who is calling: an API key's principal or the signed-in member's. Read in a short transaction of
    its own, so that a route's writing transaction (``DbDep``) starts only when the route needs it. A key
    resolved in the last few seconds is not read again (``infra.key_cache``): that answer comes from the
    event loop without a trip through a worker thread."""
    rt = runtime(request)
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    if token is not None and (cached := rt.keys.get(token)) is not None:
        return cached
    return await run_in_threadpool(_read_principal, request, rt, token)


def _read_principal(request: Request, rt: Runtime, token: str | None) -> Principal:
    stamp = rt.keys.stamp()
    with rt.db.reading() as s:
        who = _principal(request, s, rt.db, token)
    if token is not None:
        rt.keys.put(token, who, stamp)
    return who


def _principal(request: Request, s: Session, db: Database, token: str | None) -> Principal:
    if token is not None:
        found = store.resolve_api_key(s, token, record_use=key_use_recorder(db))
        if found is None:
            raise Unauthenticated("invalid or revoked API key")
        return found
    user = session_user(request, s, db)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        expected = str(request.session.get("csrf", ""))
        if not expected or not secrets.compare_digest(sent, expected):
            raise CsrfFailed("missing or wrong X-CSRF-Token header")
    return store.principal_for(user)


def session_user(request: Request, s: Session, db: Database) -> User:
    """The person signed in with this request's session cookie: the one check behind the API's principal and
    the pages' member. ``Unauthenticated`` without a live session (the cookie is cleared), and
    ``EnrolmentRequired`` while a second factor the organization requires is missing (outside the few paths
    that set one up)."""
    token = current_token(request)
    if token is None:
        raise Unauthenticated("log in or send an API key (Authorization: Bearer cs_...)")
    settings = runtime(request).settings
    user = sessions.resolve(s, token, settings.sessions, record_seen=seen_recorder(db))
    if user is None:
        request.session.clear()
        raise Unauthenticated("session expired")
    if settings.enforce_mfa and not enrolment_allowed(request.url.path) and mfa.must_enrol(s, user):
        raise EnrolmentRequired("set up a second factor first (POST /api/v1/me/totp, then /confirm)")
    return user


def own_transaction(db: Database, write: Callable[[Session, T], object]) -> Callable[[T], None]:
    """``write`` run in a transaction of its own: for the small writes of requests whose session only reads
    (a session's last request, a key's last use)."""

    def run(arg: T) -> None:
        with db.session() as w:
            write(w, arg)

    return run


def seen_recorder(db: Database) -> Callable[[int], None]:
    return own_transaction(db, sessions.record_seen)


def key_use_recorder(db: Database) -> Callable[[str], None]:
    return own_transaction(db, store.record_key_use)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def requires(role: Role, scope: Scope | None = None):  # type: ignore[no-untyped-def]
    async def check(who: PrincipalDep) -> Principal:
        if not who.can(role, scope):
            raise Forbidden(f"needs role {role} or above" + (f" and scope {scope}" if scope else ""))
        return who

    return check


Viewer = Annotated[Principal, Depends(requires(Role.VIEWER, Scope.READ))]
Submitter = Annotated[Principal, Depends(requires(Role.ANALYST, Scope.SUBMIT))]
Matcher = Annotated[Principal, Depends(requires(Role.VIEWER, Scope.MATCH))]
Reviewer = Annotated[Principal, Depends(requires(Role.ANALYST, Scope.REVIEW))]
OrgAdmin = Annotated[Principal, Depends(requires(Role.ORG_ADMIN, Scope.ADMIN))]
Operator = Annotated[
    Principal, Depends(requires(Role.PLATFORM_ADMIN, Scope.ADMIN))
]  # the coalition's operators


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
