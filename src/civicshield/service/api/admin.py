"""Onboarding and administration through the API (``service.onboarding`` does the work).

Public (rate-limited, no credentials): the set-up link, accepting an invitation, asking for and completing a
password reset, and an organization's request to join. Org admins: invitations into their organization,
disabling members, rotating keys. Operators (``platform_admin``): organizations, suspensions, join requests.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy import select

from civicshield.errors import Forbidden
from civicshield.service.api.schemas import ApiKeyOut
from civicshield.service.domain import onboarding, store
from civicshield.service.domain.tables import JoinRequest, Organization
from civicshield.service.infra.mail import Mailer
from civicshield.service.web.deps import DbDep, IdPath, Operator, OrgAdmin, RateLimit, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["onboarding"])
Token = Path(min_length=20, max_length=100)


class SetupIn(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    name: str = Field(default="", max_length=200)
    password: str = Field(min_length=10, max_length=1000)


class InvitationIn(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    role: str = Field(default="analyst", max_length=20)
    org_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class AcceptIn(BaseModel):
    name: str = Field(default="", max_length=200)
    password: str = Field(min_length=10, max_length=1000)


class ResetRequestIn(BaseModel):
    email: str = Field(min_length=3, max_length=320)


class ResetIn(BaseModel):
    password: str = Field(min_length=10, max_length=1000)


class OrganizationIn(BaseModel):
    name: str = Field(min_length=2, max_length=200)
    kind: str = Field(max_length=40)


class JoinRequestIn(BaseModel):
    org_name: str = Field(min_length=2, max_length=200)
    kind: str = Field(max_length=40)
    website: str = Field(min_length=8, max_length=500)
    contact_name: str = Field(min_length=1, max_length=200)
    contact_email: str = Field(min_length=3, max_length=320)
    vouched_by_org_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    note: str = Field(default="", max_length=5000)


SENT = {"status": "sent", "message": "If this address can take it, an e-mail with a link is on its way."}


@router.post("/setup/{token}", status_code=201, dependencies=[RateLimit])
def setup(body: SetupIn, s: DbDep, token: str = Token) -> dict[str, Any]:
    """Create the first operator with the one-time link printed at the first start."""
    user = onboarding.complete_setup(s, token, email=body.email, name=body.name, password=body.password)
    return {"user_id": user.id, "org_id": user.org_id, "email": user.email, "role": user.role}


@router.post("/invitations", status_code=202)
def invite(body: InvitationIn, s: DbDep, rt: RuntimeDep, who: OrgAdmin) -> dict[str, str]:
    """Invite a person by e-mail (the same answer whether or not the address already has an account)."""
    onboarding.invite(
        s,
        who,
        Mailer(rt.settings.mail),
        rt.settings.base_url,
        email=body.email,
        role=body.role,
        org_id=body.org_id,
    )
    return SENT


@router.post("/invitations/{token}/accept", status_code=201, dependencies=[RateLimit])
def accept(body: AcceptIn, s: DbDep, token: str = Token) -> dict[str, Any]:
    user = onboarding.accept_invitation(s, token, name=body.name, password=body.password)
    return {"user_id": user.id, "org_id": user.org_id, "email": user.email, "role": user.role}


@router.post("/password-resets", status_code=202, dependencies=[RateLimit])
def request_reset(body: ResetRequestIn, s: DbDep, rt: RuntimeDep) -> dict[str, str]:
    onboarding.request_reset(s, Mailer(rt.settings.mail), rt.settings.base_url, body.email)
    return SENT


@router.post("/password-resets/{token}", status_code=204, dependencies=[RateLimit])
def reset(body: ResetIn, s: DbDep, token: str = Token) -> None:
    onboarding.complete_reset(s, token, body.password)


@router.post("/members/{user_id}/disable", status_code=204)
def disable(user_id: IdPath, s: DbDep, who: OrgAdmin) -> None:
    onboarding.set_user_active(s, who, user_id, False)


@router.post("/members/{user_id}/enable", status_code=204)
def enable(user_id: IdPath, s: DbDep, who: OrgAdmin) -> None:
    onboarding.set_user_active(s, who, user_id, True)


@router.post("/api-keys/{prefix}/rotate", response_model=ApiKeyOut, status_code=201)
def rotate(prefix: str, s: DbDep, who: OrgAdmin) -> ApiKeyOut:
    new = onboarding.rotate_key(s, who, prefix[:16])
    row = next(k for k in store.list_api_keys(s, who) if k.prefix == new.prefix)
    return ApiKeyOut(
        prefix=new.prefix, name=row.name, scopes=list(row.scopes), revoked=False, token=new.token
    )


@router.post("/join-requests", status_code=202, dependencies=[RateLimit])
def join_request(body: JoinRequestIn, s: DbDep) -> dict[str, Any]:
    """An organization asks to join; the coalition's operators vet it."""
    row = onboarding.submit_join_request(s, **body.model_dump())
    return {"id": row.id, "state": row.state}


@router.get("/admin/organizations")
def organizations(s: DbDep, who: Operator) -> list[dict[str, Any]]:
    return [
        {
            "id": o.id,
            "name": o.name,
            "kind": o.kind,
            "suspended": o.suspended_at is not None,
            "created_at": o.created_at.isoformat(),
        }
        for o in s.scalars(select(Organization).order_by(Organization.id))
    ]


@router.post("/admin/organizations", status_code=201)
def create_organization(body: OrganizationIn, s: DbDep, who: Operator) -> dict[str, Any]:
    org = store.create_org(s, body.name.strip(), body.kind)
    return {"id": org.id, "name": org.name, "kind": org.kind}


@router.post("/admin/organizations/{org_id}/suspend", status_code=204)
def suspend(org_id: IdPath, s: DbDep, who: Operator) -> None:
    onboarding.set_org_suspended(s, who, org_id, True)


@router.post("/admin/organizations/{org_id}/resume", status_code=204)
def resume(org_id: IdPath, s: DbDep, who: Operator) -> None:
    onboarding.set_org_suspended(s, who, org_id, False)


@router.get("/admin/join-requests")
def join_requests(s: DbDep, who: Operator) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "org_name": r.org_name,
            "kind": r.kind,
            "website": r.website,
            "contact_name": r.contact_name,
            "contact_email": r.contact_email,
            "vouched_by_org_id": r.vouched_by_org_id,
            "note": r.note,
            "state": r.state,
            "created_at": r.created_at.isoformat(),
        }
        for r in s.scalars(select(JoinRequest).order_by(JoinRequest.id.desc()))
    ]


@router.post("/admin/join-requests/{request_id}/{decision}")
def decide(request_id: IdPath, decision: str, s: DbDep, rt: RuntimeDep, who: Operator) -> dict[str, Any]:
    if decision not in {"approve", "reject"}:
        raise Forbidden("decide with approve or reject")
    row, link = onboarding.decide_join_request(
        s, who, request_id, decision == "approve", Mailer(rt.settings.mail), rt.settings.base_url
    )
    return {"id": row.id, "state": row.state, "org_id": row.org_id, "invitation_link": link}
