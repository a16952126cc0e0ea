"""Bank hygiene (issue 13, part 6): an entry disabled with a reason stops matching at once and leaves the
exports; enabled again, it matches again; deleted, it is gone. Every change is audited with its reason.
SQLite and PostgreSQL."""

from __future__ import annotations

from .conftest import World, auth

PDQ = "f0e1d2c3b4a5968778695a4b3c2d1e0f" * 2


def _matches(world: World) -> int:
    r = world.client.post(
        "/api/v1/match/hashes",
        json={"hashes": [{"signal_type": "pdq", "hash": PDQ, "quality": 100}]},
        headers=auth(world, "other:viewer"),
    )
    assert r.status_code == 200, r.text
    return len(r.json()["matches"])


def test_a_disabled_entry_stops_matching_and_comes_back_when_enabled(world: World) -> None:
    reviewer = auth(world, "factcheck:reviewer")
    bank = world.client.post("/api/v1/banks", json={"name": "fakes", "tlp": "GREEN"}, headers=reviewer).json()
    (entry,) = world.client.post(
        f"/api/v1/banks/{bank['id']}/entries",
        json={"entries": [{"signal_type": "pdq", "hash": PDQ, "quality": 100, "label": "fake"}]},
        headers=reviewer,
    ).json()
    assert _matches(world) == 1
    url = f"/api/v1/banks/{bank['id']}/entries/{entry['id']}"
    assert world.client.post(f"{url}/disable", json={"reason": ""}, headers=reviewer).status_code == 422
    assert (
        world.client.post(
            f"{url}/disable", json={"reason": "x"}, headers=auth(world, "factcheck:analyst")
        ).status_code
        == 403
    )
    assert (
        world.client.post(
            f"{url}/disable", json={"reason": "x"}, headers=auth(world, "other:reviewer")
        ).status_code
        == 404
    )
    off = world.client.post(
        f"{url}/disable", json={"reason": "matches a genuine press photo"}, headers=reviewer
    )
    assert off.status_code == 200 and off.json()["disabled_reason"] == "matches a genuine press photo"
    assert _matches(world) == 0
    export = world.client.get(f"/api/v1/banks/{bank['id']}/export", headers=auth(world, "other:viewer"))
    assert PDQ not in export.text
    on = world.client.post(
        f"{url}/enable", json={"reason": "reviewed again: the photo was altered"}, headers=reviewer
    )
    assert on.status_code == 200 and on.json()["disabled_at"] is None
    assert _matches(world) == 1
    assert world.client.delete(url, headers=reviewer).status_code == 422  # a reason is required
    assert (
        world.client.delete(f"{url}?reason=duplicate%20of%20another%20entry", headers=reviewer).status_code
        == 204
    )
    assert _matches(world) == 0
    events = world.client.get("/api/v1/audit/events", headers=auth(world, "factcheck:org_admin")).json()
    reasons = {
        e["action"]: e["payload"].get("reason") for e in events if e["action"].startswith("bank.entry_")
    }
    assert reasons == {
        "bank.entry_disabled": "matches a genuine press photo",
        "bank.entry_enabled": "reviewed again: the photo was altered",
        "bank.entry_deleted": "duplicate of another entry",
    }
