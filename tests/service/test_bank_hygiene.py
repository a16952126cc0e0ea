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


def test_look_ups_are_filtered_by_bank_owner_and_kind(world: World) -> None:
    reviewer = auth(world, "factcheck:reviewer")
    bank = world.client.post(
        "/api/v1/banks", json={"name": "fakes2", "tlp": "GREEN"}, headers=reviewer
    ).json()
    world.client.post(
        f"/api/v1/banks/{bank['id']}/entries",
        json={"entries": [{"signal_type": "pdq", "hash": PDQ, "quality": 100, "label": "fake"}]},
        headers=reviewer,
    )
    query = {"hashes": [{"signal_type": "pdq", "hash": PDQ, "quality": 100}]}
    for filters, expected in (
        ({}, 1),
        ({"banks": [bank["id"]]}, 1),
        ({"banks": [bank["id"] + 1000]}, 0),
        ({"owners": [world.ids["factcheck"]]}, 1),
        ({"owners": [world.ids["other"]]}, 0),
        ({"kinds": ["authentic"]}, 0),
        ({"kinds": ["known_fake"]}, 1),
    ):
        r = world.client.post(
            "/api/v1/match/hashes", json={**query, **filters}, headers=auth(world, "other:viewer")
        )
        assert len(r.json()["matches"]) == expected, filters


def test_false_positive_reports_quarantine_an_entry_until_its_owner_reviews_it(world: World) -> None:
    reviewer = auth(world, "factcheck:reviewer")
    bank = world.client.post(
        "/api/v1/banks", json={"name": "fakes3", "tlp": "GREEN"}, headers=reviewer
    ).json()
    (entry,) = world.client.post(
        f"/api/v1/banks/{bank['id']}/entries",
        json={"entries": [{"signal_type": "pdq", "hash": PDQ, "quality": 100, "label": "fake"}]},
        headers=reviewer,
    ).json()
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    from civicshield.service.domain import store

    reporters = []
    with rt.db.session() as s:
        for n in range(3):
            org = store.create_org(s, f"newsroom-{n}", "broadcaster")
            user = store.create_user(
                s, org.id, f"r{n}@news{n}.test", "R", "reviewer", "correct horse battery"
            )
            reporters.append(
                store.create_api_key(s, store.principal_for(user), "k", ["read", "review", "match"]).token
            )
    ok = world.client.post(
        "/api/v1/match/feedback",
        json={"entry_id": entry["id"], "verdict": "confirmed"},
        headers=auth(world, "other:reviewer"),
    )
    assert ok.json() == {
        "entry_id": entry["id"],
        "confirmations": 1,
        "false_positives": 0,
        "quarantined": False,
    }
    for n, token in enumerate(reporters):
        r = world.client.post(
            "/api/v1/match/feedback",
            json={"entry_id": entry["id"], "verdict": "false_positive", "note": "a genuine press photo"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["quarantined"] is (n == 2)  # the third report outnumbers the one confirmation
    assert _matches(world) == 0  # quarantined: matches nothing
    (note,) = world.client.get("/api/v1/notifications", headers=auth(world, "factcheck:viewer")).json()
    assert note["kind"] == "entry_quarantined"
    url = f"/api/v1/banks/{bank['id']}/entries/{entry['id']}/enable"
    assert (
        world.client.post(url, json={"reason": "checked: it is the fake"}, headers=reviewer).status_code
        == 200
    )
    assert _matches(world) == 1


def _flipped(hex_hash: str, bits: int) -> str:
    value = int(hex_hash, 16) ^ ((1 << bits) - 1)  # the lowest ``bits`` bits flipped: distance ``bits``
    return f"{value:064x}"


def test_a_bank_can_be_stricter_than_the_policy_but_not_looser(world: World) -> None:
    reviewer = auth(world, "factcheck:reviewer")
    bank = world.client.post(
        "/api/v1/banks", json={"name": "posters", "tlp": "GREEN"}, headers=reviewer
    ).json()
    world.client.post(
        f"/api/v1/banks/{bank['id']}/entries",
        json={"entries": [{"signal_type": "pdq", "hash": PDQ, "quality": 100, "label": "fake poster"}]},
        headers=reviewer,
    )
    near = {"hashes": [{"signal_type": "pdq", "hash": _flipped(PDQ, 20), "quality": 100}]}

    def found() -> int:
        r = world.client.post("/api/v1/match/hashes", json=near, headers=auth(world, "other:viewer"))
        return len(r.json()["matches"])

    assert found() == 1  # distance 20 <= 31
    url = f"/api/v1/banks/{bank['id']}"
    assert world.client.patch(url, json={"pdq_max_distance": 40}, headers=reviewer).status_code == 422
    other = world.client.patch(url, json={"pdq_max_distance": 10}, headers=auth(world, "other:reviewer"))
    assert other.status_code == 403  # another member sees the bank but cannot change it
    strict = world.client.patch(url, json={"pdq_max_distance": 10}, headers=reviewer)
    assert strict.status_code == 200 and strict.json()["pdq_max_distance"] == 10
    assert found() == 0
    assert world.client.patch(url, json={"pdq_max_distance": None}, headers=reviewer).status_code == 200
    assert found() == 1


def test_an_allowlist_sets_a_wrongly_banked_picture_aside(world: World) -> None:
    """A genuine picture banked as a fake by mistake: the owner of an allowlist (media that must never
    match as fake) lists it, and from then on copies of it read as allowlisted, not as a known fake, in
    look-ups and in analyses; the known-fake entry is named for review. The PDQ hashes are the reference
    ``pdqhash`` library's, not ours."""
    import io

    from civicshield.service.infra.jobs import run_job

    from .test_retro import _picture, _reference_pdq

    pdq = _reference_pdq(_picture())
    reviewer = auth(world, "factcheck:reviewer")
    fakes = world.client.post(
        "/api/v1/banks", json={"name": "fakes3", "tlp": "GREEN"}, headers=reviewer
    ).json()
    world.client.post(
        f"/api/v1/banks/{fakes['id']}/entries",
        json={"entries": [{"signal_type": "pdq", "hash": pdq, "quality": 100, "label": "polls fake"}]},
        headers=reviewer,
    )

    def look_up() -> dict[str, object]:
        r = world.client.post(
            "/api/v1/match/hashes",
            json={"hashes": [{"signal_type": "pdq", "hash": pdq, "quality": 100}]},
            headers=auth(world, "other:viewer"),
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    def analyze() -> dict[str, object]:
        buf = io.BytesIO()
        _picture().save(buf, format="JPEG", quality=80)
        up = world.client.post(
            "/api/v1/items",
            files={"file": ("copy.jpg", buf.getvalue())},
            headers=auth(world, "other:analyst"),
        ).json()
        assert run_job(world.client.app.state.rt, up["job"]["id"]) == "done"  # type: ignore[attr-defined]
        job = world.client.get(f"/api/v1/jobs/{up['job']['id']}", headers=auth(world, "other:viewer")).json()
        return dict(job)

    assert look_up()["verdict"] == "known_fake"
    assert analyze()["label"] == "known_fake"
    allow = world.client.post(
        "/api/v1/banks", json={"name": "genuine", "kind": "allowlist", "tlp": "GREEN"}, headers=reviewer
    )
    assert allow.status_code == 201, allow.text
    world.client.post(
        f"/api/v1/banks/{allow.json()['id']}/entries",
        json={"entries": [{"signal_type": "pdq", "hash": pdq, "quality": 100, "label": "agency photo"}]},
        headers=reviewer,
    )
    answer = look_up()
    assert answer["verdict"] == "allowlisted"
    kinds = sorted(m["bank_kind"] for m in answer["matches"])  # type: ignore[attr-defined]
    assert kinds == ["allowlist", "known_fake"]  # both shown: the fake entry is there to be reviewed
    job = analyze()
    assert job["label"] != "known_fake"
    signal = next(s for s in job["report"]["signals"] if s["analyzer"] == "known_fakes")  # type: ignore[index]
    assert signal["score"] is None
    assert [f["code"] for f in signal["findings"]] == ["known_fakes.allowlisted"]


def test_an_entry_whose_match_rate_surges_is_quarantined(world: World) -> None:
    """Two known-fake entries are looked up 50 times today. One usually matches about 5 times a day (50 is
    ten times that): quarantined, its owner told. The other usually matches 10 times a day: still
    matching."""
    import datetime as dt

    from civicshield.service.domain import match_rates
    from civicshield.service.domain.tables import EntryMatchDay

    surging, steady = PDQ, "".join(f"{15 - int(c, 16):x}" for c in PDQ)  # the complement: far apart
    reviewer = auth(world, "factcheck:reviewer")
    bank = world.client.post(
        "/api/v1/banks", json={"name": "fakes5", "tlp": "GREEN"}, headers=reviewer
    ).json()
    entries = world.client.post(
        f"/api/v1/banks/{bank['id']}/entries",
        json={
            "entries": [
                {"signal_type": "pdq", "hash": h, "quality": 100, "label": name}
                for h, name in ((surging, "surging"), (steady, "steady"))
            ]
        },
        headers=reviewer,
    ).json()
    ids = {e["label"]: e["id"] for e in entries}
    today = dt.datetime.now(dt.UTC).date()
    with world.client.app.state.rt.db.session() as s:  # type: ignore[attr-defined]
        for days_ago in range(1, match_rates.BASELINE_DAYS + 1):
            day = today - dt.timedelta(days=days_ago)
            s.add(EntryMatchDay(entry_id=ids["surging"], day=day, matches=5))
            s.add(EntryMatchDay(entry_id=ids["steady"], day=day, matches=10))

    def batch(h: str) -> list[dict[str, object]]:
        query = {"hashes": [{"signal_type": "pdq", "hash": h, "quality": 100}]}
        r = world.client.post(
            "/api/v1/match/hashes/batch", json={"items": [query] * 50}, headers=auth(world, "other:viewer")
        )
        assert r.status_code == 200, r.text
        return list(r.json())

    assert all(r["verdict"] == "known_fake" for r in batch(surging))
    assert all(r["verdict"] == "known_fake" for r in batch(steady))
    assert _matches(world) == 0  # the surging entry (PDQ) is quarantined ...
    from civicshield.service.domain.tables import BankEntryRow

    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        surged, kept = (s.get(BankEntryRow, ids[name]) for name in ("surging", "steady"))
        assert surged.disabled_reason.startswith("quarantined: matched 50 times today")
        assert kept.disabled_at is None  # ... the steady one keeps matching
    inbox = world.client.get("/api/v1/notifications", headers=reviewer).json()
    assert any(n["kind"] == "entry_quarantined" and "50 times today" in n["body"] for n in inbox)
