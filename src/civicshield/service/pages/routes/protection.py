"""The protection programme's pages (issue 12): the organization's enrolment, its threat inbox (each
notification opens its playbook as a plan in one click), its security checklist and score, its plans, and
its protected people and domains. The work is the domain modules', as for the API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Form, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from civicshield.errors import MediaError, UsageError
from civicshield.media import Media
from civicshield.protection.email import EmailLimits, assess, read_email
from civicshield.protection.guidance import guidance
from civicshield.service.domain import enrolment, notifications, protection
from civicshield.service.domain import guidance as posture_plans
from civicshield.service.domain.security import Role
from civicshield.service.infra.runtime import Runtime
from civicshield.service.pages import i18n
from civicshield.service.pages.routing import page_router
from civicshield.service.pages.session import Member, MemberDep, flash
from civicshield.service.pages.templating import render, translate
from civicshield.service.web.deps import DbDep, runtime
from civicshield.service.web.uploads import uploaded_file

router = page_router("/ui/protection")
HOME = "/ui/protection"


def _page(request: Request, s: Session, member: Member, **extra: Any) -> Response:
    shipped = guidance()
    notes = notifications.inbox(s, member.who)
    entries = protection.list_entries(s, member.who)
    with runtime(request).db.session() as w:
        protection.record_read(w, member.who, len(entries))
    return render(
        request,
        "protection.html.j2",
        member=member,
        guide=shipped,
        glang=i18n.request_language(request),
        programme=enrolment.enrolment_of(s, member.who.org_id),
        terms=enrolment.CONSENT,
        kinds=enrolment.KINDS,
        notes=notes,
        playbooks={n.id: shipped.playbook(str((n.detail or {}).get("playbook", ""))) for n in notes},
        posture=posture_plans.posture(s, member.who),
        plans=posture_plans.plans(s, member.who),
        entries=entries,
        analyst=member.can(Role.ANALYST),
        admin=member.can(Role.ORG_ADMIN),
        **extra,
    )


@router.get("")
def home(request: Request, member: MemberDep, s: DbDep) -> Response:
    return _page(request, s, member)


@router.post("/enrolment")
def enrol(
    request: Request,
    member: MemberDep,
    s: DbDep,
    kind: Annotated[str, Form(max_length=40)],
    contact_name: Annotated[str, Form(max_length=200)],
    contact_email: Annotated[str, Form(max_length=320)],
    contact_phone: Annotated[str, Form(max_length=40)] = "",
    consent: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    enrolment.enrol(
        s,
        member.who,
        kind=kind,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        consent=consent == "yes",
    )
    flash(request, "success", translate(request, "Enrolment sent: the coalition's operators will review it."))
    return RedirectResponse(HOME, status_code=303)


@router.post("/posture/{item_id}")
def posture_item(
    request: Request,
    member: MemberDep,
    s: DbDep,
    item_id: str,
    done: Annotated[str, Form(max_length=10)] = "",
    evidence: Annotated[str, Form(max_length=4000)] = "",
    due_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        due = dt.date.fromisoformat(due_on) if due_on else None
    except ValueError:
        raise UsageError("the due date must be a date (YYYY-MM-DD)") from None
    posture_plans.set_item(s, member.who, item_id, done=done == "yes", evidence=evidence, due_on=due)
    flash(request, "success", translate(request, "Checklist saved."))
    return RedirectResponse(f"{HOME}#item-{item_id}", status_code=303)


@router.post("/notifications/{notification_id}/{action}")
def notification_action(
    request: Request, member: MemberDep, s: DbDep, notification_id: int, action: str
) -> Response:
    if action == "plan":
        plan = posture_plans.plan_for_notification(s, member.who, notification_id)
        notifications.acknowledge(s, member.who, notification_id)
        return RedirectResponse(f"{HOME}/plans/{plan.id}", status_code=303)
    if action == "acknowledge":
        notifications.acknowledge(s, member.who, notification_id)
    elif action == "resolve":
        notifications.resolve(s, member.who, notification_id)
    else:
        raise UsageError("acknowledge, resolve or plan")
    return RedirectResponse(HOME, status_code=303)


@router.get("/notifications/{notification_id}/plan")
def notification_plan(request: Request, member: MemberDep, s: DbDep, notification_id: int) -> Response:
    """Where the e-mail's link lands: the notification with its playbook and a button that opens the plan."""
    row = notifications.own(s, member.who, notification_id)
    shipped = guidance()
    return render(
        request,
        "protection_notification.html.j2",
        member=member,
        note=row,
        playbook=shipped.playbook(str((row.detail or {}).get("playbook", ""))),
        owners=shipped.owners,
        glang=i18n.request_language(request),
    )


@router.get("/plans/{plan_id}")
def plan_page(request: Request, member: MemberDep, s: DbDep, plan_id: int) -> Response:
    row, playbook = posture_plans.plan_of(s, member.who, plan_id)
    shipped = guidance()
    steps: list[dict[str, Any]] = [
        {
            "step": step,
            "due": row.opened_at + dt.timedelta(minutes=step.minutes),
            "done": (row.steps or {}).get(step.id),
        }
        for step in playbook.steps
    ]
    return render(
        request,
        "protection_plan.html.j2",
        member=member,
        plan=row,
        playbook=playbook,
        steps=steps,
        owners=shipped.owners,
        glang=i18n.request_language(request),
        analyst=member.can(Role.ANALYST),
    )


@router.post("/plans/{plan_id}/steps/{step_id}")
def plan_step(request: Request, member: MemberDep, s: DbDep, plan_id: int, step_id: str) -> Response:
    posture_plans.complete_step(s, member.who, plan_id, step_id)
    flash(request, "success", translate(request, "Step marked done."))
    return RedirectResponse(f"{HOME}/plans/{plan_id}", status_code=303)


@router.post("/plans/{plan_id}/close")
def plan_close(request: Request, member: MemberDep, s: DbDep, plan_id: int) -> Response:
    posture_plans.close_plan(s, member.who, plan_id)
    flash(request, "success", translate(request, "Plan closed."))
    return RedirectResponse(HOME, status_code=303)


@router.post("/plans")
def plan_open(
    request: Request, member: MemberDep, s: DbDep, playbook: Annotated[str, Form(max_length=60)]
) -> Response:
    plan = posture_plans.open_plan(s, member.who, playbook)
    return RedirectResponse(f"{HOME}/plans/{plan.id}", status_code=303)


@router.post("/email")
async def check_email(request: Request, member: MemberDep) -> Response:
    """A suspicious e-mail (.eml) checked against the organization's protected people, domains and handles:
    lookalike senders and links, display-name impersonation, failed authentication, the media attached."""
    rt = runtime(request)
    data, name = await uploaded_file(request, EmailLimits().max_bytes, field="message")
    result = await run_in_threadpool(_assess_email, rt, member, data)
    with rt.db.reading() as s:
        response = _page(request, s, member, email_result=result, email_name=name)
    return response


def _assess_email(rt: Runtime, member: Member, data: bytes) -> dict[str, Any]:
    facts = read_email(data, EmailLimits())
    with rt.db.reading() as s:
        listed = protection.watchlist_of(s, member.who.org_id)
    verdict = assess(facts, listed)
    attachments = []
    for item in facts.attachments[:10]:
        try:
            media = Media.from_bytes(item.data, name=item.filename, limits=rt.settings.analysis.limits)
        except MediaError as exc:
            attachments.append({"filename": item.filename, "result": exc.message})
            continue
        analyzed = rt.engine.analyze(media)
        attachments.append({"filename": item.filename, "result": f"{analyzed.label}: {analyzed.headline}"})
    return {
        "suspected": verdict.suspected,
        "subject": facts.subject,
        "findings": [(f.code, f.message) for f in verdict.findings],
        "attachments": attachments,
    }
