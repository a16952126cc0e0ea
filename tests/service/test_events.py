"""Workshops and webinars, and the awareness kit built from public debunks (issue 12). SQLite and
PostgreSQL."""

from __future__ import annotations

import io

from civicshield.demo import synth
from civicshield.service.domain import publication, store
from civicshield.service.domain.tables import User
from civicshield.service.infra.jobs import run_job
from civicshield.service.submission import submit_bytes

from .conftest import World, auth

WORKSHOP = {
    "kind": "workshop",
    "title": "Spotting voice clones before election day",
    "language": "nl",
    "capacity": 1,
    "sessions": [{"starts_at": "2026-12-10T14:00:00+01:00", "minutes": 90, "place": "Den Haag, room 3"}],
}


def test_a_workshop_from_creation_to_feedback_and_its_summary(world: World) -> None:
    assert (
        world.client.post("/api/v1/events", json=WORKSHOP, headers=auth(world, "other:analyst")).status_code
        == 403
    )
    naive = {**WORKSHOP, "sessions": [{"starts_at": "2026-12-10T14:00:00"}]}
    assert (
        world.client.post(
            "/api/v1/events", json=naive, headers=auth(world, "factcheck:org_admin")
        ).status_code
        == 422
    )
    made = world.client.post("/api/v1/events", json=WORKSHOP, headers=auth(world, "factcheck:org_admin"))
    assert made.status_code == 201, made.text
    event, session = made.json()["id"], made.json()["sessions"][0]["id"]
    listed = world.client.get("/api/v1/events", headers=auth(world, "other:viewer")).json()
    assert [e["title"] for e in listed] == [WORKSHOP["title"]]  # every member sees the coalition's events

    reg = f"/api/v1/events/{event}/sessions/{session}/registration"
    mine = world.client.post(reg, headers=auth(world, "other:analyst"))
    assert mine.status_code == 201
    assert world.client.post(reg, headers=auth(world, "other:analyst")).json()["id"] == mine.json()["id"]
    full = world.client.post(reg, headers=auth(world, "factcheck:viewer"))
    assert full.status_code == 409 and "full" in full.text  # capacity 1

    feedback = f"/api/v1/events/{event}/sessions/{session}/feedback"
    early = world.client.post(feedback, json={"rating": 5}, headers=auth(world, "other:analyst"))
    assert early.status_code == 403  # attendees only
    mark = f"/api/v1/events/{event}/registrations/{mine.json()['id']}/attendance"
    assert (
        world.client.post(mark, json={"attended": True}, headers=auth(world, "other:org_admin")).status_code
        == 403
    )
    assert world.client.post(
        mark, json={"attended": True}, headers=auth(world, "factcheck:org_admin")
    ).json()["attended"]
    rated = world.client.post(
        feedback,
        json={"rating": 4, "text": "More real examples please"},
        headers=auth(world, "other:analyst"),
    )
    assert rated.status_code == 200 and rated.json()["rating"] == 4
    material = world.client.post(
        f"/api/v1/events/{event}/materials",
        json={"title": "Slides", "url": "https://example.org/slides.pdf"},
        headers=auth(world, "factcheck:org_admin"),
    )
    assert material.json()["materials"] == [{"title": "Slides", "url": "https://example.org/slides.pdf"}]

    summary = world.client.get(
        f"/api/v1/events/{event}/summary", headers=auth(world, "factcheck:org_admin")
    ).json()
    assert (summary["registered"], summary["attended"], summary["mean_rating"]) == (1, 1, 4.0)
    assert summary["by_organization"] == {"other-org": {"registered": 1, "attended": 1}}
    assert summary["comments"] == ["More real examples please"]
    assert (
        world.client.get(
            f"/api/v1/events/{event}/summary", headers=auth(world, "other:org_admin")
        ).status_code
        == 403
    )


def _publish(world: World, seed: int, claim: str, rating: str, tlp: str = "CLEAR") -> str:
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    with rt.db.reading() as s:
        user = s.get(User, world.ids["factcheck:reviewer:user"])
        who = store.principal_for(user)
    buf = io.BytesIO()
    synth.poster(f"CLAIM {seed}", size=(400, 300), seed=seed).convert("RGB").save(buf, format="PNG")
    done = submit_bytes(rt, world.client.app.state.celery, who, buf.getvalue(), f"claim{seed}.png")  # type: ignore[attr-defined]
    assert run_job(rt, done.job_id) == "done"
    with rt.db.session() as s:
        case = store.create_case(s, who, store.get_item(s, who, done.item_id), f"Case {seed}", claim, tlp)
        store.transition(s, who, case, "triage")
        store.transition(s, who, case, "in_review")
        store.rate(s, who, case, rating, "reviewed")
        publication.publish(s, who, case, rt.settings.base_url)
        return str(case.slug)


def test_the_awareness_quiz_uses_public_debunks_only_and_results_are_per_organization(world: World) -> None:
    quiz = "/api/v1/awareness/quiz?lang=fr"
    slugs = [
        _publish(world, 1, "Le maire annonce que le vote a lieu par SMS", "false"),
        _publish(world, 2, "Photo of ballots dumped in a river", "manipulated"),
        _publish(world, 3, "Video of the minister at the rally", "authentic"),
    ]
    secret = _publish(world, 4, "An AMBER case nobody outside may see", "false", tlp="AMBER")
    asked = world.client.get(quiz, headers=auth(world, "other:viewer")).json()["questions"]
    assert sorted(q["key"] for q in asked) == sorted(slugs) and secret not in str(asked)
    first = next(q for q in asked if q["key"] == slugs[0])
    assert (
        first["prompt"].startswith("Quelqu'un vous partage ceci") and "vote a lieu par SMS" in first["prompt"]
    )
    assert "false" in [c[0] for c in first["choices"]] and "Faux" in [c[1] for c in first["choices"]]
    answers = {slugs[0]: "false", slugs[1]: "authentic", slugs[2]: "authentic"}
    taken = world.client.post(
        "/api/v1/awareness/attempts",
        json={"lang": "fr", "answers": answers},
        headers=auth(world, "other:viewer"),
    )
    assert taken.status_code == 201 and (taken.json()["right"], taken.json()["asked"]) == (2, 3)
    leak = world.client.post(
        "/api/v1/awareness/attempts", json={"answers": {secret: "false"}}, headers=auth(world, "other:viewer")
    )
    assert leak.status_code == 400  # a restricted case is not a quiz answer either
    brief = world.client.get("/api/v1/awareness/briefing?lang=de", headers=auth(world, "other:viewer")).json()
    assert brief["title"].startswith("Sensibilisierung") and len(brief["items"]) == 3
    assert {i["rating"] for i in brief["items"]} == {"Falsch", "Manipuliert", "Echt"}
    results = world.client.get("/api/v1/awareness/results", headers=auth(world, "other:org_admin")).json()
    assert results == [
        {"organization": "other-org", "attempts": 1, "people": 1, "right": 2, "asked": 3, "percent_right": 67}
    ]
    assert (
        world.client.get("/api/v1/awareness/results", headers=auth(world, "factcheck:org_admin")).json() == []
    )
