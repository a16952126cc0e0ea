"""The election incident protocol (issue 15, part 2): declaration and fan-out to every member (the
organization protecting a target is told it concerns it), attached items within sharing labels, the shared
timeline, the situation report with DISARM techniques, and the stand-down. SQLite and PostgreSQL."""

from __future__ import annotations

import io

from sqlalchemy import select

from civicshield.demo import synth
from civicshield.service.domain.tables import Delivery

from .conftest import World, auth

INCIDENT = {
    "title": "Voice clone of the minister calling voters",
    "severity": "critical",
    "election": "Municipal elections 2026",
    "targets": ["Anna de Vries"],
    "disarm": ["T0087.001", "t0002"],
    "tlp": "AMBER",
}


def _item(world: World, who: str, seed: int) -> int:
    buf = io.BytesIO()
    synth.poster(f"ITEM {seed}", size=(320, 240), seed=seed).convert("RGB").save(buf, format="PNG")
    r = world.client.post(
        "/api/v1/items", files={"file": (f"i{seed}.png", buf.getvalue())}, headers=auth(world, who)
    )
    return int(r.json()["id"])


def test_declare_fan_out_items_timeline_report_and_stand_down(world: World) -> None:
    world.client.post(
        "/api/v1/protection/entries",
        json={"kind": "person", "name": "Anna de Vries"},
        headers=auth(world, "other:org_admin"),
    )
    hook = world.client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["incident.declared"], "max_tlp": "AMBER"},
        headers=auth(world, "other:org_admin"),
    ).json()
    assert (
        world.client.post(
            "/api/v1/incidents", json=INCIDENT, headers=auth(world, "factcheck:analyst")
        ).status_code
        == 403
    )
    bad = world.client.post(
        "/api/v1/incidents",
        json={**INCIDENT, "disarm": ["T9999"]},
        headers=auth(world, "factcheck:org_admin"),
    )
    assert bad.status_code == 400 and "DISARM" in bad.text
    made = world.client.post("/api/v1/incidents", json=INCIDENT, headers=auth(world, "factcheck:org_admin"))
    assert made.status_code == 201, made.text
    incident = made.json()
    assert incident["disarm"] == ["T0087.001", "T0002"]

    mine = world.client.get("/api/v1/notifications", headers=auth(world, "factcheck:viewer")).json()
    theirs = world.client.get("/api/v1/notifications", headers=auth(world, "other:viewer")).json()
    assert [n["kind"] for n in mine] == ["incident_declared"] and not mine[0]["detail"]["concerns_you"]
    assert (
        theirs[0]["detail"]["concerns_you"]
        and "It concerns people or domains you protect" in theirs[0]["body"]
    )
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        events = [d.event for d in s.scalars(select(Delivery).where(Delivery.webhook_id == hook["id"]))]
    assert events == ["incident.declared"]

    url = f"/api/v1/incidents/{incident['id']}"
    own = _item(world, "factcheck:analyst", 71)
    other = _item(world, "other:analyst", 72)
    assert (
        world.client.post(
            f"{url}/items", json={"item_id": other}, headers=auth(world, "factcheck:analyst")
        ).status_code
        == 404
    )
    assert (
        world.client.post(
            f"{url}/items", json={"item_id": own}, headers=auth(world, "factcheck:analyst")
        ).status_code
        == 201
    )
    assert (
        world.client.post(
            f"{url}/items", json={"item_id": other}, headers=auth(world, "other:analyst")
        ).status_code
        == 201
    )
    world.client.post(
        f"{url}/updates",
        json={"text": "Robocalls reported in three towns", "tlp": "AMBER"},
        headers=auth(world, "factcheck:analyst"),
    )
    world.client.post(
        f"{url}/updates",
        json={"text": "Our source inside the telco", "tlp": "RED"},
        headers=auth(world, "factcheck:analyst"),
    )

    ours = world.client.get(url, headers=auth(world, "factcheck:viewer")).json()
    seen = world.client.get(url, headers=auth(world, "other:viewer")).json()
    assert ours["items"]["yours"] == [own] and ours["items"]["others"] == 1
    assert seen["items"]["yours"] == [other] and seen["items"]["others"] == 1  # never the other's item id
    assert [u["text"] for u in ours["timeline"]] == [
        "Robocalls reported in three towns",
        "Our source inside the telco",
    ]
    assert [u["text"] for u in seen["timeline"]] == ["Robocalls reported in three towns"]  # RED stays home
    assert [t["name"] for t in ours["disarm"]][1] == "Facilitate State Propaganda"
    md = world.client.get(f"{url}/report.md", headers=auth(world, "other:viewer")).text
    assert (
        md.startswith("# Situation report: Voice clone") and "DISARM Foundation" in md and "telco" not in md
    )

    assert (
        world.client.post(
            f"{url}/stand-down", json={"after_action": "x"}, headers=auth(world, "other:org_admin")
        ).status_code
        == 403
    )
    done = world.client.post(
        f"{url}/stand-down",
        json={"after_action": "Calls stopped after the operator blocked the numbers; pre-bunking worked."},
        headers=auth(world, "factcheck:org_admin"),
    )
    assert done.status_code == 200 and done.json()["stood_down_at"]
    late = _item(world, "factcheck:analyst", 73)
    assert (
        world.client.post(
            f"{url}/items", json={"item_id": late}, headers=auth(world, "factcheck:analyst")
        ).status_code
        == 409
    )
    report = world.client.get(f"{url}/report.md", headers=auth(world, "factcheck:viewer")).text
    assert "## After-action report" in report and "pre-bunking worked" in report
    assert (
        world.client.get("/api/v1/incidents?active=true", headers=auth(world, "factcheck:viewer")).json()
        == []
    )


def test_a_case_tagged_with_disarm_exports_the_frameworks_attack_patterns(world: World) -> None:
    import json

    import stix2
    from stix2validator import ValidationOptions, validate_string

    from .test_events import _publish

    slug = _publish(world, 74, "Cloned voice urges voters to stay home", "false")
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        from civicshield.service.domain.tables import Case

        case_id = s.scalar(select(Case.id).where(Case.slug == slug))
    url = f"/api/v1/cases/{case_id}"
    before = world.client.get(f"{url}/stix", headers=auth(world, "factcheck:reviewer")).json()
    bad = world.client.put(
        f"{url}/disarm", json={"techniques": ["T0000"]}, headers=auth(world, "factcheck:reviewer")
    )
    assert bad.status_code == 400
    tagged = world.client.put(
        f"{url}/disarm", json={"techniques": ["T0087.001"]}, headers=auth(world, "factcheck:reviewer")
    )
    assert tagged.status_code == 200 and tagged.json()["disarm"] == ["T0087.001"]
    bundle = world.client.get(f"{url}/stix", headers=auth(world, "factcheck:reviewer")).json()
    (pattern,) = [o for o in bundle["objects"] if o["type"] == "attack-pattern"]
    reference = pattern["external_references"][0]
    assert (reference["source_name"], reference["external_id"]) == ("DISARM", "T0087.001")
    assert "DISARM Foundation" in reference["description"]
    report = next(o for o in bundle["objects"] if o["type"] == "report")
    old = next(o for o in before["objects"] if o["type"] == "report")
    assert pattern["id"] in report["object_refs"] and report["modified"] > old["modified"]  # a new version
    result = validate_string(json.dumps(bundle), ValidationOptions(strict=True, version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    assert stix2.parse(bundle, allow_custom=False)
