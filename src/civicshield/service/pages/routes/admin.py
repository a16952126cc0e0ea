"""Organization admin: members and roles, API keys, the default TLP, and the webhooks list.

Only organization admins see these pages. Webhooks are listed read-only here; they are managed through the
webhooks API. A new API key is shown once, on the page that answers the form, and never stored in clear.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from civicshield.errors import Forbidden
from civicshield.service.domain import learning, onboarding, reads, store, subscriptions
from civicshield.service.domain.security import Role, Scope
from civicshield.service.infra.mail import Mailer
from civicshield.service.pages.routing import page_router
from civicshield.service.pages.session import Member, MemberDep, flash
from civicshield.service.pages.templating import render, translate
from civicshield.service.web.deps import DbDep, runtime
from civicshield.sharing.tlp import TLP

router = page_router("/ui/admin")
BACK = "/ui/admin"


def admin_only(member: Member) -> None:
    if not member.can(Role.ORG_ADMIN):
        raise Forbidden("only organization admins manage the organization")


def admin_page(request: Request, s: Session, member: Member, new_key: str | None = None) -> Response:
    return render(
        request,
        "admin.html.j2",
        member=member,
        org=reads.organization(s, member.who),
        people=reads.members(s, member.who),
        keys=store.list_api_keys(s, member.who),
        hooks=subscriptions.list_webhooks(s, member.who),
        tlps=list(TLP),
        scopes=[str(x) for x in Scope],
        roles=[str(r) for r in Role if r != Role.PLATFORM_ADMIN or member.can(Role.PLATFORM_ADMIN)],
        new_key=new_key,
    )


@router.get("")
def admin(request: Request, member: MemberDep, s: DbDep) -> Response:
    admin_only(member)
    return admin_page(request, s, member)


@router.post("/members")
def invite_member(
    request: Request,
    member: MemberDep,
    s: DbDep,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form(max_length=20)],
) -> Response:
    """An invitation by e-mail; the page says the same whether or not the address has an account."""
    admin_only(member)
    rt = runtime(request)
    onboarding.invite(s, member.who, Mailer(rt.settings.mail), rt.settings.base_url, email=email, role=role)
    flash(request, "success", translate(request, "If this address can join, an invitation is on its way."))
    return RedirectResponse(BACK, status_code=303)


@router.post("/members/{user_id}/role")
def change_role(
    request: Request, member: MemberDep, s: DbDep, user_id: int, role: Annotated[str, Form(max_length=20)]
) -> Response:
    store.set_role(s, member.who, user_id, role)
    flash(request, "success", translate(request, "Role changed."))
    return RedirectResponse(BACK, status_code=303)


@router.post("/default-tlp")
def default_tlp(
    request: Request, member: MemberDep, s: DbDep, tlp: Annotated[str, Form(max_length=20)]
) -> Response:
    store.set_default_tlp(s, member.who, tlp)
    flash(request, "success", translate(request, "Default TLP saved."))
    return RedirectResponse(BACK, status_code=303)


@router.post("/mfa-policy")
def mfa_policy(
    request: Request, member: MemberDep, s: DbDep, required: Annotated[str, Form(max_length=5)] = ""
) -> Response:
    store.set_mfa_policy(s, member.who, required == "yes")
    flash(request, "success", translate(request, "Second-factor policy saved."))
    return RedirectResponse(BACK, status_code=303)


@router.post("/training-consent")
def training_consent(
    request: Request, member: MemberDep, s: DbDep, consent: Annotated[str, Form(max_length=5)] = ""
) -> Response:
    learning.set_consent(s, member.who, consent == "yes")
    flash(request, "success", translate(request, "Training consent saved."))
    return RedirectResponse(BACK, status_code=303)


@router.post("/keys")
def create_key(
    request: Request,
    member: MemberDep,
    s: DbDep,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    scopes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    admin_only(member)
    key = store.create_api_key(s, member.who, name.strip(), scopes or ["read"])
    return admin_page(request, s, member, new_key=key.token)


@router.post("/keys/{prefix}/revoke")
def revoke_key(request: Request, member: MemberDep, s: DbDep, prefix: str) -> Response:
    admin_only(member)
    store.revoke_api_key(s, member.who, prefix[:16])
    flash(request, "success", translate(request, "API key revoked."))
    return RedirectResponse(BACK, status_code=303)


@router.post("/keys/{prefix}/rotate")
def rotate_key(request: Request, member: MemberDep, s: DbDep, prefix: str) -> Response:
    """A new key with the same name and scopes, shown once; the old one stops working."""
    admin_only(member)
    new = onboarding.rotate_key(s, member.who, prefix[:16])
    return admin_page(request, s, member, new_key=new.token)


@router.post("/members/{user_id}/{action}")
def member_action(request: Request, member: MemberDep, s: DbDep, user_id: int, action: str) -> Response:
    """Disable or enable a member (sessions end, keys stop), or mail them a password reset link."""
    admin_only(member)
    rt = runtime(request)
    if action in {"disable", "enable"}:
        onboarding.set_user_active(s, member.who, user_id, action == "enable")
        enabled = action == "enable"
        message = translate(request, "Member enabled.") if enabled else translate(request, "Member disabled.")
    elif action == "reset":
        user = onboarding.member_of(s, member.who, user_id)
        onboarding.request_reset(s, Mailer(rt.settings.mail), rt.settings.base_url, user.email)
        message = translate(request, "A password reset link is on its way.")
    else:
        raise Forbidden("disable, enable or reset")
    flash(request, "success", message)
    return RedirectResponse(BACK, status_code=303)
