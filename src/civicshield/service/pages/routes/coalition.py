"""The operators' pages: organizations (create and invite their first admin, suspend, resume) and the
requests to join. The work is ``service.onboarding``'s, as for the API and the console."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from civicshield.errors import Forbidden
from civicshield.service.domain import enrolment, onboarding, store
from civicshield.service.domain.security import OrgKind, Role
from civicshield.service.domain.tables import JoinRequest, Organization, User
from civicshield.service.infra.mail import Mailer
from civicshield.service.pages.routing import page_router
from civicshield.service.pages.session import Member, MemberDep, flash
from civicshield.service.pages.templating import render, translate
from civicshield.service.web.deps import DbDep, runtime

router = page_router("/ui/coalition")
HOME = "/ui/coalition"


def _operator(member: Member) -> None:
    if not member.can(Role.PLATFORM_ADMIN):
        raise Forbidden("only the coalition's operators see this page")


def _page(request: Request, s: Session, member: Member, **extra: Any) -> Response:
    orgs = list(s.scalars(select(Organization).order_by(Organization.id)))
    counts = dict(s.execute(select(User.org_id, func.count()).group_by(User.org_id)).all())
    requests = list(s.scalars(select(JoinRequest).order_by(JoinRequest.id.desc()).limit(200)))
    return render(
        request,
        "coalition.html.j2",
        member=member,
        orgs=orgs,
        counts=counts,
        requests=requests,
        names={o.id: o.name for o in orgs},
        kinds=[k for k in OrgKind if k != OrgKind.OPERATOR],
        enrolments=enrolment.pending(s, member.who),
        **extra,
    )


@router.get("")
def coalition(request: Request, member: MemberDep, s: DbDep) -> Response:
    _operator(member)
    return _page(request, s, member)


@router.post("/organizations")
def create_org(
    request: Request,
    member: MemberDep,
    s: DbDep,
    name: Annotated[str, Form(min_length=2, max_length=200)],
    kind: Annotated[str, Form(max_length=40)],
    email: Annotated[str, Form(max_length=320)],
) -> Response:
    """A new organization and an invitation for its first admin (mailed, or shown when no mail is set up)."""
    _operator(member)
    rt = runtime(request)
    mailer = Mailer(rt.settings.mail)
    org = store.create_org(s, name.strip(), kind)
    if mailer.settings.enabled:
        onboarding.invite(
            s, member.who, mailer, rt.settings.base_url, email=email, role="org_admin", org_id=org.id
        )
        link = None
    else:
        link = onboarding.invitation_link(
            s, member.who, rt.settings.base_url, email=email, role="org_admin", org_id=org.id
        )
    if link:
        return _page(request, s, member, link=link)
    flash(request, "success", translate(request, "If this address can join, an invitation is on its way."))
    return RedirectResponse(HOME, status_code=303)


@router.post("/organizations/{org_id}/{action}")
def suspend_or_resume(request: Request, member: MemberDep, s: DbDep, org_id: int, action: str) -> Response:
    _operator(member)
    if action not in {"suspend", "resume"}:
        raise Forbidden("suspend or resume")
    onboarding.set_org_suspended(s, member.who, org_id, action == "suspend")
    return RedirectResponse(HOME, status_code=303)


@router.post("/join-requests/{request_id}/{decision}")
def decide(request: Request, member: MemberDep, s: DbDep, request_id: int, decision: str) -> Response:
    _operator(member)
    if decision not in {"approve", "reject"}:
        raise Forbidden("approve or reject")
    rt = runtime(request)
    _, link = onboarding.decide_join_request(
        s, member.who, request_id, decision == "approve", Mailer(rt.settings.mail), rt.settings.base_url
    )
    if link:
        return _page(request, s, member, link=link)
    return RedirectResponse(HOME, status_code=303)


@router.post("/enrolments/{enrolment_id}/{decision}")
def decide_enrolment(
    request: Request, member: MemberDep, s: DbDep, enrolment_id: int, decision: str
) -> Response:
    """Approve or decline an organization's request to join the protection programme."""
    _operator(member)
    if decision not in {"approve", "decline"}:
        raise Forbidden("approve or decline")
    enrolment.decide(s, member.who, enrolment_id, approve=decision == "approve")
    return RedirectResponse(HOME, status_code=303)
