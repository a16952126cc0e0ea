"""The protection programme (issue 12): enrolment with consent and a security contact, the operators'
decision, the shipped guidance through the API, posture tracking with a score, and mitigation plans opened
from a notification in one call. SQLite and PostgreSQL."""

from __future__ import annotations

from civicshield.service.domain import notifications
from civicshield.signals import Finding, Signal

from .conftest import World, auth
from .test_protection import _analyze, _enrolled, _phishing_poster, _protect

ENROL = {
    "kind": "party",
    "contact_name": "Sam Secure",
    "contact_email": "security@factcheck.test",
    "consent": True,
}


def test_enrolment_needs_an_admin_consent_and_a_contact_and_an_operators_approval(world: World) -> None:
    url = "/api/v1/protection/enrolment"
    before = world.client.get(url, headers=auth(world, "factcheck:viewer")).json()
    assert before["state"] == "not_enrolled" and "TLP:RED" in before["terms"]
    assert world.client.post(url, json=ENROL, headers=auth(world, "factcheck:analyst")).status_code == 403
    for bad in ({**ENROL, "consent": False}, {**ENROL, "kind": "club"}, {**ENROL, "contact_email": "nobody"}):
        r = world.client.post(url, json=bad, headers=auth(world, "factcheck:org_admin"))
        assert r.status_code in (400, 422), r.text
    made = world.client.post(url, json=ENROL, headers=auth(world, "factcheck:org_admin"))
    assert made.status_code == 201 and made.json()["state"] == "pending"
    again = world.client.post(url, json=ENROL, headers=auth(world, "factcheck:org_admin"))
    assert again.status_code == 409
    # an organization admin is not an operator
    decide = f"/api/v1/admin/protection/enrolments/{made.json()['id']}/approve"
    assert world.client.post(decide, json={}, headers=auth(world, "other:org_admin")).status_code == 403
    events = world.client.get("/api/v1/audit/events", headers=auth(world, "factcheck:org_admin")).json()
    assert "protection.enrolled" in [e["action"] for e in events]
    gone = world.client.delete(url, headers=auth(world, "factcheck:org_admin"))
    assert gone.json()["state"] == "withdrawn"


def test_only_an_approved_member_is_told_of_other_members_impersonations(world: World) -> None:
    _protect(world, "factcheck:org_admin", "domain", "kiesraad.nl")
    world.client.post("/api/v1/protection/enrolment", json=ENROL, headers=auth(world, "factcheck:org_admin"))
    _analyze(world, "other:analyst", _phishing_poster())  # pending: no check against its entries yet
    assert world.client.get("/api/v1/notifications", headers=auth(world, "factcheck:viewer")).json() == []


def test_guidance_posture_and_a_plan_opened_from_a_notification(world: World) -> None:
    guide = world.client.get(
        "/api/v1/protection/guidance?lang=nl", headers=auth(world, "factcheck:viewer")
    ).json()
    mfa = next(i for i in guide["checklist"] if i["id"] == "mfa-passkeys")
    assert mfa["title"].startswith("Aanmelden")
    assert (
        world.client.get(
            "/api/v1/protection/guidance?lang=xx", headers=auth(world, "factcheck:viewer")
        ).status_code
        == 422
    )

    posture = "/api/v1/protection/posture"
    assert world.client.get(posture, headers=auth(world, "factcheck:viewer")).json()["score"] == 0
    body = {"done": True, "evidence": "passkeys for the board since May", "due_on": "2026-12-20"}
    assert (
        world.client.put(
            f"{posture}/mfa-passkeys", json=body, headers=auth(world, "factcheck:viewer")
        ).status_code
        == 403
    )
    assert (
        world.client.put(
            f"{posture}/no-such-item", json=body, headers=auth(world, "factcheck:analyst")
        ).status_code
        == 404
    )
    assert (
        world.client.put(
            f"{posture}/mfa-passkeys", json=body, headers=auth(world, "factcheck:analyst")
        ).status_code
        == 204
    )
    now = world.client.get(posture, headers=auth(world, "factcheck:viewer")).json()
    total = sum(i["weight"] for i in guide["checklist"])
    assert now["score"] == round(100 * mfa["weight"] / total)
    line = next(i for i in now["items"] if i["id"] == "mfa-passkeys")
    assert line["done"] and line["evidence"] == body["evidence"] and line["due_on"] == "2026-12-20"
    assert world.client.get(posture, headers=auth(world, "other:viewer")).json()["score"] == 0  # its own

    _enrolled(world, "factcheck")
    _protect(world, "factcheck:org_admin", "domain", "kiesraad.nl")
    _analyze(world, "other:analyst", _phishing_poster())
    (note,) = world.client.get("/api/v1/notifications", headers=auth(world, "factcheck:viewer")).json()
    assert note["detail"]["playbook"] == "phishing-wave"
    url = f"/api/v1/protection/notifications/{note['id']}/plan"
    plan = world.client.post(url, headers=auth(world, "factcheck:analyst"))
    assert plan.status_code == 201, plan.text
    assert plan.json()["playbook"] == "phishing-wave" and plan.json()["notification_id"] == note["id"]
    assert world.client.post(url, headers=auth(world, "factcheck:analyst")).json()["id"] == plan.json()["id"]
    assert world.client.post(url, headers=auth(world, "other:analyst")).status_code == 404
    first = plan.json()["steps"][0]
    done = world.client.post(
        f"/api/v1/protection/plans/{plan.json()['id']}/steps/{first['id']}/done",
        headers=auth(world, "factcheck:analyst"),
    )
    assert done.json()["steps"][0]["done"]["by"]
    assert (
        world.client.get(
            f"/api/v1/protection/plans/{plan.json()['id']}", headers=auth(world, "other:viewer")
        ).status_code
        == 404
    )
    closed = world.client.post(
        f"/api/v1/protection/plans/{plan.json()['id']}/close", headers=auth(world, "factcheck:analyst")
    )
    assert closed.json()["closed_at"] is not None
    actions = [
        e["action"]
        for e in world.client.get("/api/v1/audit/events", headers=auth(world, "factcheck:org_admin")).json()
    ]
    assert {"posture.updated", "plan.opened", "plan.step_done", "plan.closed"} <= set(actions)


def test_a_flood_of_impersonations_folds_into_one_notification(world: World) -> None:
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    signal = Signal.abstain(
        "impersonation", "x", findings=(Finding("impersonation.person_named", "names Anna"),)
    )
    with rt.db.session() as s:
        rows = [
            notifications.impersonation_detected(
                s,
                world.ids["factcheck"],
                signal,
                submitter_org_id=world.ids["other"],
                item_sha256=f"{n:064x}",
            )
            for n in range(notifications.MAX_NEW_PER_HOUR + 5)
        ]
        ids = {row.id for row in rows}
        flood = rows[-1]
        assert len(ids) == notifications.MAX_NEW_PER_HOUR + 1 and flood.count == 5
        assert flood.title.startswith("More impersonations")
