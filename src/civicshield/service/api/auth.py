"""Login sessions for the UI and API keys for machines."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from civicshield.errors import Forbidden, Unauthenticated
from civicshield.service.api.schemas import (
    ApiKeyIn,
    ApiKeyOut,
    CodeIn,
    CodeWithPasswordIn,
    LoginIn,
    MfaPolicyIn,
    PasskeyIn,
    PasskeyLoginIn,
    PasswordChangeIn,
    SessionOut,
    WebSessionOut,
)
from civicshield.service.domain import mfa, passkeys, sessions, store
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import hash_key
from civicshield.service.domain.tables import User
from civicshield.service.web import signin
from civicshield.service.web.deps import (
    DbDep,
    IdPath,
    OrgAdmin,
    PrincipalDep,
    RateLimit,
    RuntimeDep,
    csrf_token,
    current_token,
    end_session,
    start_session,
)

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/session", response_model=SessionOut, dependencies=[RateLimit])
def login(body: LoginIn, request: Request, s: DbDep, rt: RuntimeDep) -> SessionOut:
    """Sign in (throttled per account and address; the second factor's code too, once enrolled)."""
    address = request.client.host if request.client else ""
    user = signin.authenticate(
        rt.db, rt.settings, email=body.email, password=body.password, code=body.code, address=address
    )
    start_session(request, s, user)
    return SessionOut(
        user_id=user.id, org_id=user.org_id, email=user.email, role=user.role, csrf_token=csrf_token(request)
    )


@router.delete("/session", status_code=204)
def logout(request: Request, s: DbDep, who: PrincipalDep) -> None:
    end_session(request, s)


@router.get("/sessions", response_model=list[WebSessionOut])
def my_sessions(request: Request, s: DbDep, rt: RuntimeDep, who: PrincipalDep) -> list[WebSessionOut]:
    """The caller's live sign-in sessions (where and when), so one left open elsewhere can be ended."""
    current = hash_key(current_token(request) or "")
    return [
        WebSessionOut(
            id=r.id,
            created_at=r.created_at,
            last_seen_at=r.last_seen_at,
            user_agent=r.user_agent,
            address=r.address,
            current=r.token_hash == current,
        )
        for r in sessions.list_for(s, who.user_id, rt.settings.sessions)
    ]


@router.delete("/sessions/{session_id}", status_code=204)
def end_one_session(session_id: IdPath, s: DbDep, who: PrincipalDep) -> None:
    sessions.revoke_id(s, who.user_id, session_id)


@router.post("/me/password", status_code=204, dependencies=[RateLimit])
def change_password(body: PasswordChangeIn, request: Request, s: DbDep, who: PrincipalDep) -> None:
    """A new password; every other session of the person ends (a stolen cookie stops working)."""
    store.change_password(s, who, body.current_password, body.new_password, keep=current_token(request))


@router.get("/me", response_model=SessionOut)
def me(request: Request, who: PrincipalDep) -> SessionOut:
    return SessionOut(
        user_id=who.user_id,
        org_id=who.org_id,
        email=who.email,
        role=str(who.role),
        csrf_token=csrf_token(request) if who.via == "session" else "",
    )


@router.post("/api-keys", response_model=ApiKeyOut, status_code=201)
def create_key(body: ApiKeyIn, s: DbDep, who: OrgAdmin) -> ApiKeyOut:
    key = store.create_api_key(s, who, body.name, list(body.scopes))
    return ApiKeyOut(
        prefix=key.prefix, name=body.name, scopes=sorted(body.scopes), revoked=False, token=key.token
    )


@router.get("/api-keys", response_model=list[ApiKeyOut])
def list_keys(s: DbDep, who: OrgAdmin) -> list[ApiKeyOut]:
    return [
        ApiKeyOut(prefix=k.prefix, name=k.name, scopes=list(k.scopes), revoked=k.revoked)
        for k in store.list_api_keys(s, who)
    ]


@router.delete("/api-keys/{prefix}", status_code=204)
def revoke_key(prefix: str, s: DbDep, who: OrgAdmin) -> None:
    store.revoke_api_key(s, who, prefix)


@router.post("/me/totp", status_code=201)
def totp_begin(request: Request, s: DbDep, rt: RuntimeDep, who: PrincipalDep) -> dict[str, str]:
    """Start enrolling an authenticator app: its secret (also as an otpauth:// URI for a QR code)."""
    enrolment = mfa.begin(s, _me(s, who), rt.settings.secret_key)
    return {"secret": enrolment.secret, "otpauth_uri": enrolment.uri}


@router.post("/me/totp/confirm")
def totp_confirm(body: CodeIn, s: DbDep, rt: RuntimeDep, who: PrincipalDep) -> dict[str, list[str]]:
    """Finish with a first code; the answer holds ten recovery codes, shown this once."""
    return {"recovery_codes": mfa.confirm(s, _me(s, who), rt.settings.secret_key, body.code)}


@router.post("/me/totp/disable", status_code=204)
def totp_disable(body: CodeWithPasswordIn, s: DbDep, rt: RuntimeDep, who: PrincipalDep) -> None:
    mfa.disable(s, _me(s, who), rt.settings.secret_key, body.password, body.code)


def _me(s: DbDep, who: Principal) -> User:
    if who.via != "session":
        raise Forbidden("a second factor is set up from a signed-in session, not with an API key")
    user = s.get(User, who.user_id)
    if user is None:
        raise Unauthenticated("session expired")
    return user


def _relying(rt: RuntimeDep) -> passkeys.Relying:
    return passkeys.Relying(rt.settings.base_url)


@router.post("/me/passkeys/options")
def passkey_options(request: Request, s: DbDep, rt: RuntimeDep, who: PrincipalDep) -> Response:
    """Options for ``navigator.credentials.create`` to register a passkey for the signed-in person."""
    options = passkeys.begin_registration(s, _relying(rt), _me(s, who), request.session)
    return Response(options, media_type="application/json")


@router.post("/me/passkeys", status_code=201)
def passkey_add(
    body: PasskeyIn, request: Request, s: DbDep, rt: RuntimeDep, who: PrincipalDep
) -> dict[str, int]:
    row = passkeys.finish_registration(
        s, _relying(rt), _me(s, who), request.session, body.credential, body.name
    )
    return {"id": row.id}


@router.get("/me/passkeys")
def passkey_list(s: DbDep, who: PrincipalDep) -> list[dict[str, Any]]:
    return passkeys.listing(s, who.user_id)


@router.delete("/me/passkeys/{passkey_id}", status_code=204)
def passkey_remove(passkey_id: IdPath, s: DbDep, who: PrincipalDep) -> None:
    passkeys.remove(s, _me(s, who), passkey_id)


@router.post("/passkeys/login/options", dependencies=[RateLimit])
def passkey_login_options(request: Request, rt: RuntimeDep) -> Response:
    """Options for ``navigator.credentials.get``: sign in with any passkey registered here."""
    return Response(passkeys.begin_login(_relying(rt), request.session), media_type="application/json")


@router.post("/passkeys/login", response_model=SessionOut, dependencies=[RateLimit])
def passkey_login(body: PasskeyLoginIn, request: Request, s: DbDep, rt: RuntimeDep) -> SessionOut:
    """Sign in with a passkey (both factors at once: the authenticator verifies the person)."""
    user = passkeys.finish_login(s, _relying(rt), request.session, body.credential)
    start_session(request, s, user)
    return SessionOut(
        user_id=user.id, org_id=user.org_id, email=user.email, role=user.role, csrf_token=csrf_token(request)
    )


@router.post("/organization/mfa-policy", status_code=204)
def mfa_policy(body: MfaPolicyIn, s: DbDep, who: OrgAdmin) -> None:
    """Require a second factor of every member of the caller's organization (admins always need one)."""
    store.set_mfa_policy(s, who, body.required)
