"""Login sessions for the UI and API keys for machines."""

from __future__ import annotations

from fastapi import APIRouter, Request

from civicshield.errors import Unauthenticated
from civicshield.service import store
from civicshield.service.api.schemas import ApiKeyIn, ApiKeyOut, LoginIn, SessionOut
from civicshield.service.deps import DbDep, OrgAdmin, PrincipalDep, RateLimit, csrf_token

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/session", response_model=SessionOut, dependencies=[RateLimit])
def login(body: LoginIn, request: Request, s: DbDep) -> SessionOut:
    user = store.login(s, body.email, body.password)
    if user is None:
        raise Unauthenticated("wrong email or password")
    request.session.clear()
    request.session["user_id"] = user.id
    return SessionOut(
        user_id=user.id, org_id=user.org_id, email=user.email, role=user.role, csrf_token=csrf_token(request)
    )


@router.delete("/session", status_code=204)
def logout(request: Request, who: PrincipalDep) -> None:
    request.session.clear()


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
