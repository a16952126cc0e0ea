"""Workshops, webinars and the awareness kit (issue 12): events for all members, registrations,
attendance and feedback; the briefing and quiz built from the coalition's public debunks, and results per
organization."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, Field

from civicshield.protection.awareness import briefing
from civicshield.service.api.schemas import Strict
from civicshield.service.domain import awareness
from civicshield.service.domain import events as ev
from civicshield.service.domain.tables import Event
from civicshield.service.web.deps import DbDep, IdPath, OrgAdmin, RuntimeDep, Viewer

router = APIRouter(prefix="/api/v1/events", tags=["events"])
kit = APIRouter(prefix="/api/v1/awareness", tags=["awareness"])
Lang = Annotated[Literal["en", "nl", "fr", "de"], Query(description="language of the texts")]


class SessionModel(Strict):
    starts_at: AwareDatetime
    minutes: int = Field(default=60, ge=5, le=1440)
    place: str = Field(default="", max_length=500)


class EventIn(Strict):
    kind: Literal["workshop", "webinar"]
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=8000)
    language: Literal["en", "nl", "fr", "de"] = "en"
    capacity: int = Field(default=30, ge=1, le=10_000)
    sessions: list[SessionModel] = Field(min_length=1, max_length=ev.MAX_SESSIONS)


class MaterialIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    url: str = Field(min_length=1, max_length=2000)


class FeedbackIn(Strict):
    rating: int = Field(ge=1, le=5)
    text: str = Field(default="", max_length=4000)


class AttendanceIn(Strict):
    attended: bool = True


class EventOut(BaseModel):
    id: int
    kind: str
    title: str
    description: str
    language: str
    capacity: int
    materials: list[dict[str, str]]
    sessions: list[dict[str, Any]]
    organizer_org_id: int


def _out(s: DbDep, event: Event) -> EventOut:
    return EventOut(
        id=event.id,
        kind=event.kind,
        title=event.title,
        description=event.description,
        language=event.language,
        capacity=event.capacity,
        materials=list(event.materials or []),
        sessions=[
            {"id": x.id, "starts_at": x.starts_at, "minutes": x.minutes, "place": x.place}
            for x in ev.sessions_of(s, event)
        ],
        organizer_org_id=event.org_id,
    )


@router.get("", response_model=list[EventOut])
def list_events(s: DbDep, who: Viewer) -> list[EventOut]:
    return [_out(s, e) for e in ev.list_events(s, who)]


@router.post("", response_model=EventOut, status_code=201)
def create_event(body: EventIn, s: DbDep, who: OrgAdmin) -> EventOut:
    event = ev.create_event(
        s,
        who,
        kind=body.kind,
        title=body.title,
        description=body.description,
        language=body.language,
        capacity=body.capacity,
        sessions=[ev.SessionIn(x.starts_at, x.minutes, x.place) for x in body.sessions],
    )
    return _out(s, event)


@router.get("/{event_id}", response_model=EventOut)
def get_event(event_id: IdPath, s: DbDep, who: Viewer) -> EventOut:
    return _out(s, ev.event_of(s, who, event_id))


@router.post("/{event_id}/materials", response_model=EventOut)
def add_material(event_id: IdPath, body: MaterialIn, s: DbDep, who: OrgAdmin) -> EventOut:
    return _out(s, ev.add_material(s, who, event_id, body.title, body.url))


@router.post("/{event_id}/sessions/{session_id}/registration", status_code=201)
def register(event_id: IdPath, session_id: IdPath, s: DbDep, who: Viewer) -> dict[str, Any]:
    row = ev.register(s, who, event_id, session_id)
    return {"id": row.id, "session_id": row.session_id, "attended": row.attended}


@router.delete("/{event_id}/sessions/{session_id}/registration", status_code=204)
def unregister(event_id: IdPath, session_id: IdPath, s: DbDep, who: Viewer) -> Response:
    ev.unregister(s, who, event_id, session_id)
    return Response(status_code=204)


@router.post("/{event_id}/registrations/{registration_id}/attendance")
def attendance(
    event_id: IdPath, registration_id: IdPath, body: AttendanceIn, s: DbDep, who: OrgAdmin
) -> dict[str, Any]:
    row = ev.mark_attended(s, who, event_id, registration_id, body.attended)
    return {"id": row.id, "attended": row.attended}


@router.post("/{event_id}/sessions/{session_id}/feedback")
def feedback(event_id: IdPath, session_id: IdPath, body: FeedbackIn, s: DbDep, who: Viewer) -> dict[str, Any]:
    row = ev.feedback(s, who, event_id, session_id, body.rating, body.text)
    return {"id": row.id, "rating": row.feedback_rating}


@router.get("/{event_id}/summary")
def summary(event_id: IdPath, s: DbDep, who: OrgAdmin) -> dict[str, Any]:
    """Registrations, attendance and feedback, in all and per organization (the organizer's view)."""
    return ev.summary(s, who, event_id).to_dict()


@kit.get("/briefing")
def get_briefing(s: DbDep, who: Viewer, rt: RuntimeDep, lang: Lang = "en") -> dict[str, Any]:
    """A briefing from the coalition's latest public fact-checks, in ``lang``."""
    made = briefing(awareness.debunks(s, rt.settings.base_url), lang)
    return {
        "title": made.title,
        "intro": made.intro,
        "items": [
            {"title": d.title, "claim": d.claim, "rating": label, "url": d.url, "publisher": d.publisher}
            for d, label in made.items
        ],
        "tips": list(made.tips),
    }


@kit.get("/quiz")
def get_quiz(s: DbDep, who: Viewer, rt: RuntimeDep, lang: Lang = "en", seed: int = 0) -> dict[str, Any]:
    """Questions from public fact-checks (answers are graded on submission, not sent)."""
    asked = awareness.questions(s, rt.settings.base_url, lang, seed=seed)
    return {
        "lang": lang,
        "questions": [
            {"key": q.key, "prompt": q.prompt, "choices": [list(c) for c in q.choices]} for q in asked
        ],
    }


class AttemptIn(Strict):
    lang: Literal["en", "nl", "fr", "de"] = "en"
    answers: dict[str, str] = Field(min_length=1, max_length=awareness.MAX_ANSWERS)


@kit.post("/attempts", status_code=201)
def submit(body: AttemptIn, s: DbDep, who: Viewer, rt: RuntimeDep) -> dict[str, Any]:
    row = awareness.submit(s, who, rt.settings.base_url, body.lang, body.answers)
    return {"id": row.id, "right": row.right, "asked": row.asked, "taken_at": row.taken_at}


@kit.get("/results")
def results(s: DbDep, who: OrgAdmin) -> list[dict[str, Any]]:
    """Quiz results per organization (yours; operators see every organization's)."""
    return awareness.results(s, who)
