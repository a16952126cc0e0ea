"""Workshops and webinars (``/ui/events``) and the awareness kit (``/ui/awareness``) in the pages (issue 12).
The work is ``domain.events``' and ``domain.awareness``', as for the API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from civicshield.errors import UsageError
from civicshield.protection.awareness import briefing
from civicshield.service.domain import awareness
from civicshield.service.domain import events as ev
from civicshield.service.domain.security import Role
from civicshield.service.domain.tables import Registration
from civicshield.service.pages import i18n
from civicshield.service.pages.routing import page_router
from civicshield.service.pages.session import MemberDep, flash
from civicshield.service.pages.templating import render, translate
from civicshield.service.web.deps import DbDep, runtime

router = page_router("/ui")


@router.get("/events")
def events_page(request: Request, member: MemberDep, s: DbDep) -> Response:
    return render(
        request,
        "events.html.j2",
        member=member,
        events=ev.list_events(s, member.who),
        admin=member.can(Role.ORG_ADMIN),
    )


@router.post("/events")
def create_event(
    request: Request,
    member: MemberDep,
    s: DbDep,
    kind: Annotated[str, Form(max_length=12)],
    title: Annotated[str, Form(max_length=300)],
    starts_at: Annotated[str, Form(max_length=20)],
    minutes: Annotated[int, Form(ge=5, le=1440)] = 60,
    place: Annotated[str, Form(max_length=500)] = "",
    capacity: Annotated[int, Form(ge=1, le=10_000)] = 30,
    description: Annotated[str, Form(max_length=8000)] = "",
    language: Annotated[str, Form(max_length=5)] = "en",
) -> Response:
    try:  # <input type="datetime-local"> sends local time without a zone: the page says it is UTC
        start = dt.datetime.fromisoformat(starts_at).replace(tzinfo=dt.UTC)
    except ValueError:
        raise UsageError("the start must be a date and time") from None
    event = ev.create_event(
        s,
        member.who,
        kind=kind,
        title=title,
        description=description,
        language=language,
        capacity=capacity,
        sessions=[ev.SessionIn(start, minutes, place)],
    )
    flash(request, "success", translate(request, "Event created."))
    return RedirectResponse(f"/ui/events/{event.id}", status_code=303)


@router.get("/events/{event_id}")
def event_page(request: Request, member: MemberDep, s: DbDep, event_id: int) -> Response:
    event = ev.event_of(s, member.who, event_id)
    sessions = ev.sessions_of(s, event)
    mine = {
        r.session_id: r
        for r in s.scalars(
            select(Registration).where(
                Registration.user_id == member.who.user_id,
                Registration.session_id.in_([x.id for x in sessions]),
            )
        )
    }
    organizer = (member.who.org_id == event.org_id and member.can(Role.ORG_ADMIN)) or member.can(
        Role.PLATFORM_ADMIN
    )
    return render(
        request,
        "event.html.j2",
        member=member,
        event=event,
        sessions=sessions,
        mine=mine,
        organizer=organizer,
        registrations=ev.registrations_of(s, member.who, event) if organizer else [],
        summary=ev.summary(s, member.who, event_id) if organizer else None,
    )


@router.post("/events/{event_id}/sessions/{session_id}/{action}")
def session_action(
    request: Request,
    member: MemberDep,
    s: DbDep,
    event_id: int,
    session_id: int,
    action: str,
    rating: Annotated[int, Form(ge=1, le=5)] = 5,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    if action == "register":
        ev.register(s, member.who, event_id, session_id)
        flash(request, "success", translate(request, "You are registered."))
    elif action == "unregister":
        ev.unregister(s, member.who, event_id, session_id)
        flash(request, "success", translate(request, "Registration cancelled."))
    elif action == "feedback":
        ev.feedback(s, member.who, event_id, session_id, rating, text)
        flash(request, "success", translate(request, "Thank you for your feedback."))
    else:
        raise UsageError("register, unregister or feedback")
    return RedirectResponse(f"/ui/events/{event_id}", status_code=303)


@router.post("/events/{event_id}/registrations/{registration_id}/attendance")
def attendance(
    request: Request,
    member: MemberDep,
    s: DbDep,
    event_id: int,
    registration_id: int,
    attended: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    ev.mark_attended(s, member.who, event_id, registration_id, attended == "yes")
    flash(request, "success", translate(request, "Attendance saved."))
    return RedirectResponse(f"/ui/events/{event_id}", status_code=303)


@router.post("/events/{event_id}/materials")
def material(
    request: Request,
    member: MemberDep,
    s: DbDep,
    event_id: int,
    title: Annotated[str, Form(max_length=300)],
    url: Annotated[str, Form(max_length=2000)],
) -> Response:
    ev.add_material(s, member.who, event_id, title, url)
    return RedirectResponse(f"/ui/events/{event_id}", status_code=303)


def _kit_lang(request: Request) -> str:
    asked = request.query_params.get("kit", "")
    return asked if asked in ("en", "nl", "fr", "de") else i18n.request_language(request)


@router.get("/awareness")
def awareness_page(request: Request, member: MemberDep, s: DbDep) -> Response:
    rt = runtime(request)
    lang = _kit_lang(request)
    public = awareness.debunks(s, rt.settings.base_url)
    try:
        questions = awareness.questions(s, rt.settings.base_url, lang)
    except UsageError:
        questions = ()
    return render(
        request,
        "awareness.html.j2",
        member=member,
        kit_lang=lang,
        brief=briefing(public, lang),
        questions=questions,
        results=awareness.results(s, member.who) if member.can(Role.ORG_ADMIN) else None,
    )


@router.post("/awareness")
async def take_quiz(request: Request, member: MemberDep, s: DbDep) -> Response:
    form = await request.form()
    lang = str(form.get("kit_lang", "en"))
    answers = {k[2:]: str(v) for k, v in form.multi_items() if k.startswith("q-") and isinstance(v, str)}
    attempt = awareness.submit(s, member.who, runtime(request).settings.base_url, lang, answers)
    flash(
        request,
        "success",
        translate(request, "You answered %(right)s of %(asked)s questions right.")
        % {"right": attempt.right, "asked": attempt.asked},
    )
    return RedirectResponse(f"/ui/awareness?kit={lang}", status_code=303)
