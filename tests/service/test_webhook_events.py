"""Which events reach which receivers: ``bank.entry_added`` from every path entries take into a bank, and
``match.found`` from the match API and from analysis jobs, with TLP and the checking organization's privacy
respected. Real app, real databases, a real receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from civicshield.service.infra.delivery import deliver_due
from civicshield.service.infra.jobs import run_job

from .conftest import Receiver, World, auth
from .test_publication import _analyzed_item, _publish, _reupload_bytes
from .test_webhooks import ADMIN, HOOKS, _hook, _log, _rt

OTHER_ADMIN = "other:org_admin"


def _received(world: World, receiver: Receiver, hook: dict[str, Any], who: str) -> list[dict[str, Any]]:
    """The bodies this webhook was sent, oldest first, all of them verified by the receiver."""
    wire = {e["wire_id"] for e in _log(world, hook["id"], who=who)}
    got = [g for g in receiver.got if g.headers["CivicShield-Delivery"] in wire]
    assert all(g.verified for g in got), [g.reason for g in got]
    return [g.json for g in got]


def _bank(world: World, name: str, tlp: str, hashes: list[str], org: str = "factcheck") -> int:
    reviewer = auth(world, f"{org}:reviewer")
    bank = world.client.post("/api/v1/banks", json={"name": name, "tlp": tlp}, headers=reviewer)
    assert bank.status_code == 201, bank.text
    entries = [{"signal_type": "sha256", "hash": h, "label": f"{name} {i}"} for i, h in enumerate(hashes)]
    r = world.client.post(
        f"/api/v1/banks/{bank.json()['id']}/entries", json={"entries": entries}, headers=reviewer
    )
    assert r.status_code == 201, r.text
    return int(bank.json()["id"])


def _match(world: World, who: str, *hashes: str) -> list[dict[str, Any]]:
    items = [{"hashes": [{"signal_type": "sha256", "hash": h}]} for h in hashes]
    r = world.client.post("/api/v1/match/hashes/batch", json={"items": items}, headers=auth(world, who))
    assert r.status_code == 200, r.text
    return list(r.json())


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_publishing_a_fake_announces_its_bank_entries_once(
    world: World, receiver: Receiver, tmp_path: Path
) -> None:
    own = _hook(world, receiver, events=["bank.entry_added", "case.published"], max_tlp="AMBER")
    other = _hook(world, receiver, who=OTHER_ADMIN, events=["bank.entry_added"], max_tlp="RED")
    item_id, _ = _analyzed_item(world, tmp_path)
    published = _publish(world, item_id, "GREEN")
    deliver_due(_rt(world))

    mine = _received(world, receiver, own, ADMIN)
    assert sorted(d["event"] for d in mine) == ["bank.entry_added", "case.published"]
    added = next(d for d in mine if d["event"] == "bank.entry_added")
    assert added["tlp"] == "GREEN" and added["data"]["bank"]["name"] == "fact-checks"
    assert added["data"]["count"] == published["entries_added"] and added["data"]["count"] >= 2
    case_id = next(d for d in mine if d["event"] == "case.published")["data"]["case_id"]
    assert {e["case_id"] for e in added["data"]["entries"]} == {case_id}
    assert {e["link"] for e in added["data"]["entries"]} == {published["fact_check_url"]}
    [theirs] = _received(world, receiver, other, OTHER_ADMIN)  # GREEN: the community hears of it too
    assert theirs["event"] == "bank.entry_added" and theirs["event_id"] == added["event_id"]

    bank_id = added["data"]["bank"]["id"]  # the bank API adds through the same path: one event again
    entry = {"signal_type": "sha256", "hash": _sha("one more"), "label": "one more"}
    r = world.client.post(
        f"/api/v1/banks/{bank_id}/entries",
        json={"entries": [entry]},
        headers=auth(world, "factcheck:reviewer"),
    )
    assert r.status_code == 201, r.text
    deliver_due(_rt(world))
    later = [d for d in _received(world, receiver, own, ADMIN) if d["event"] == "bank.entry_added"]
    assert [d["data"]["count"] for d in later] == [published["entries_added"], 1]


def test_match_found_goes_to_the_checker_and_to_the_owner_without_naming_the_checker(
    world: World, receiver: Receiver
) -> None:
    shared, secret = _sha("ballots burned"), _sha("tip from a source")
    green = _bank(world, "green-fakes", "GREEN", [shared])
    _bank(world, "amber-fakes", "AMBER", [shared, secret])  # the owner's own view only
    owner = _hook(world, receiver, events=["match.found"], max_tlp="AMBER")
    checker = _hook(world, receiver, who=OTHER_ADMIN, events=["match.found"], max_tlp="RED")

    [hit, miss, hidden] = _match(world, "other:viewer", shared, _sha("nothing"), secret)
    assert hit["verdict"] == "known_fake" and [m["bank_id"] for m in hit["matches"]] == [green]
    assert miss["verdict"] == hidden["verdict"] == "no_match"
    deliver_due(_rt(world))

    [asked] = _received(world, receiver, checker, OTHER_ADMIN)  # one event per item that matched
    assert asked["event"] == "match.found" and asked["tlp"] == "GREEN"
    assert asked["org"]["name"] == "other-org"
    data = asked["data"]
    assert data["checked_by"] == "own_organization" and data["count"] == 1 and not data["truncated"]
    assert data["source"] == {"via": "match_api", "sha256": shared, "pdq": None}
    assert data["matches"] == hit["matches"]  # the same facts as the answer, nothing more

    [told] = _received(world, receiver, owner, ADMIN)
    assert told["event"] == "match.found" and told["tlp"] == "GREEN"
    assert told["org"]["name"] == "factcheck-org" and told["data"]["checked_by"] == "another_organization"
    assert [m["bank"] for m in told["data"]["matches"]] == ["green-fakes"]  # only what was matched
    body = next(g.body for g in receiver.got if g.json["event_id"] == told["event_id"])
    assert b"other-org" not in body and b"source" not in body

    # The owner checking its own banks matches its AMBER entries too: labelled AMBER, to itself only.
    [own_hit] = _match(world, "factcheck:viewer", shared)
    assert sorted(m["tlp"] for m in own_hit["matches"]) == ["AMBER", "GREEN"]
    deliver_due(_rt(world))
    events = _received(world, receiver, owner, ADMIN)
    assert [(d["tlp"], d["data"]["checked_by"], d["data"]["count"]) for d in events] == [
        ("GREEN", "another_organization", 1),
        ("AMBER", "own_organization", 2),
    ]
    assert len(_received(world, receiver, checker, OTHER_ADMIN)) == 1  # nothing about others' lookups

    # A webhook that takes GREEN at most does not get an AMBER match, not even a trimmed one.
    r = world.client.patch(f"{HOOKS}/{owner['id']}", json={"max_tlp": "GREEN"}, headers=auth(world, ADMIN))
    assert r.status_code == 200, r.text
    _match(world, "factcheck:viewer", secret)
    assert deliver_due(_rt(world)) == []


def test_an_analysis_job_matching_a_published_fake_sends_match_found(
    world: World, receiver: Receiver, tmp_path: Path
) -> None:
    item_id, path = _analyzed_item(world, tmp_path)
    published = _publish(world, item_id, "GREEN")
    owner = _hook(world, receiver, events=["match.found"])
    checker = _hook(world, receiver, who=OTHER_ADMIN, events=["match.found"])
    r = world.client.post(
        "/api/v1/items",
        files={"file": ("copy.jpg", _reupload_bytes(path))},
        headers=auth(world, "other:analyst"),
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["job"]["id"]
    assert run_job(_rt(world), job_id) == "done"
    assert run_job(_rt(world), job_id) == "done"  # a finished job runs no further: no second event
    deliver_due(_rt(world))

    [asked] = _received(world, receiver, checker, OTHER_ADMIN)
    source = asked["data"]["source"]
    assert (source["via"], source["item_id"], source["job_id"]) == ("analysis", r.json()["id"], job_id)
    assert {m["fact_check_url"] for m in asked["data"]["matches"]} == {published["fact_check_url"]}
    [told] = _received(world, receiver, owner, ADMIN)
    assert told["data"]["checked_by"] == "another_organization" and "source" not in told["data"]
    assert told["data"]["matches"] == asked["data"]["matches"]


def test_video_and_audio_fact_checks_reach_every_channel(
    world: World, receiver: Receiver, tmp_path: Path
) -> None:
    """Issue 17: a video and an audio fact-check, followed through STIX (OASIS library), MISP (PyMISP), the
    bank export (CSV and python-threatexchange's format) and the webhooks."""
    import json

    import stix2
    from pymisp import MISPEvent

    from civicshield.banks import entries_from_csv
    from civicshield.banks.threatexchange import entries_from_te
    from civicshield.demo import synth
    from civicshield.sharing import validate_stix

    from .test_publication import _analyzed_file

    hook = _hook(world, receiver, events=["bank.entry_added", "case.published"], max_tlp="AMBER")
    video = synth.write_video(tmp_path / "speech.mp4", seconds=4.0, text="FAKE SPEECH")
    audio = synth.write_audio(tmp_path / "call.wav", synth.tone(seconds=4.0, seed=9))
    viewer = auth(world, "factcheck:viewer")
    for path, hash_kind in ((video, "vpdq"), (audio, "chromaprint")):
        published = _publish(world, _analyzed_file(world, path), "GREEN")
        case_id = published["case"]["id"]
        stix = world.client.get(f"/api/v1/cases/{case_id}/stix", headers=viewer)
        assert stix.status_code == 200, stix.text
        assert validate_stix(stix.json(), ignore=()) == []
        parsed = stix2.parse(stix.text)
        assert any(f"'.{hash_kind} = '" in o.pattern for o in parsed.objects if o.type == "indicator")
        misp = world.client.get(f"/api/v1/cases/{case_id}/misp", headers=viewer)
        event = MISPEvent()
        event.load(misp.text)
        algorithms = {
            a.value for o in event.objects for a in o.attributes if a.object_relation == "algorithm"
        }
        assert hash_kind in algorithms
        deliver_due(_rt(world))
        sent = _received(world, receiver, hook, ADMIN)
        assert any(d["event"] == "case.published" and d["data"]["case_id"] == case_id for d in sent)
        added = [d for d in sent if d["event"] == "bank.entry_added"][-1]
        bank_id = added["data"]["bank"]["id"]
        assert hash_kind in {e["signal_type"] for e in added["data"]["entries"]}
        export = f"/api/v1/banks/{bank_id}/export"
        csv_text = world.client.get(export, params={"format": "csv"}, headers=viewer).text
        assert hash_kind in {e.signal_type.value for e in entries_from_csv(csv_text, source="export.csv")}
        te = world.client.get(export, params={"format": "threatexchange"}, headers=viewer)
        back, _ = entries_from_te(te.text, source="export.txt", label="back")
        if hash_kind == "vpdq":  # threatexchange has vpdq and video_sha256; no audio signal type
            assert {"vpdq", "sha256"} <= {e.signal_type.value for e in back}
        json.loads(misp.text)
