"""A coalition consumes what others publish (issue 13, part 7): another organization's STIX bundle and MISP
event of a published fact-check are imported into a bank through the API and then match; a file marked more
restrictively than the bank, or malformed, is refused with nothing imported. SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from civicshield.service.domain.tables import BankEntryRow, Case

from .conftest import World, auth
from .test_events import _publish


def _bank(world: World, tlp: str) -> int:
    made = world.client.post(
        "/api/v1/banks",
        json={"name": f"partners-{tlp.lower()}", "tlp": tlp},
        headers=auth(world, "other:reviewer"),
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _import(world: World, bank_id: int, name: str, body: bytes) -> tuple[int, dict[str, object]]:
    r = world.client.post(
        f"/api/v1/banks/{bank_id}/import", files={"file": (name, body)}, headers=auth(world, "other:reviewer")
    )
    return r.status_code, r.json()


def _entries(world: World, bank_id: int) -> int:
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        return int(s.scalar(select(func.count()).where(BankEntryRow.bank_id == bank_id)) or 0)


def test_another_organizations_stix_and_misp_exports_import_and_match(world: World) -> None:
    slug = _publish(world, 41, "Ballot boxes set on fire", "false")  # published by the fact-checker
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        case_id = s.scalar(select(Case.id).where(Case.slug == slug))
    reviewer = auth(world, "factcheck:reviewer")
    stix = world.client.get(f"/api/v1/cases/{case_id}/stix", headers=reviewer).content
    misp = world.client.get(f"/api/v1/cases/{case_id}/misp", headers=reviewer).content

    green = _bank(world, "GREEN")
    status, answer = _import(world, green, "partner-stix.json", stix)
    assert status == 200, answer
    assert answer["format"] == "stix" and answer["added"] == answer["entries"] and int(answer["entries"]) >= 2
    status, again = _import(world, green, "partner-misp.json", misp)
    assert status == 200 and again["format"] == "misp" and again["added"] == 0  # the same hashes: nothing new
    pdq = json.loads(stix)
    pattern = next(
        o["pattern"] for o in pdq["objects"] if o["type"] == "indicator" and ".pdq" in o["pattern"]
    )
    value = pattern.rsplit("'", 2)[1]
    looked = world.client.post(
        "/api/v1/match/hashes",
        json={"hashes": [{"signal_type": "pdq", "hash": value, "quality": 100}], "banks": [green]},
        headers=auth(world, "other:viewer"),
    ).json()
    assert looked["verdict"] == "known_fake"


def test_a_more_restricted_or_malformed_file_is_refused_whole(world: World) -> None:
    import stix2

    indicator = stix2.Indicator(
        name="amber",
        pattern="[file:hashes.'SHA-256' = '" + "ab" * 32 + "']",
        pattern_type="stix",
        object_marking_refs=[stix2.TLP_AMBER],
    )
    amber = stix2.Bundle(indicator).serialize().encode()
    green = _bank(world, "GREEN")
    status, answer = _import(world, green, "amber.json", amber)
    assert status == 400 and "marked TLP:AMBER" in json.dumps(answer)
    strict = _bank(world, "AMBER")
    assert _import(world, strict, "amber.json", amber)[0] == 200
    broken = json.loads(stix2.Bundle(indicator, allow_custom=True).serialize())
    broken["objects"].append(
        dict(broken["objects"][0], id="indicator--" + "0" * 8 + "-0000-4000-8000-" + "0" * 12)
    )
    broken["objects"][-1]["pattern"] = "[file:hashes.'SHA-256' = 'not-a-hash']"
    before = _entries(world, strict)
    status, answer = _import(world, strict, "broken.json", json.dumps(broken).encode())
    assert status == 422 and "indicator--00000000" in json.dumps(answer)
    assert _entries(world, strict) == before  # nothing of the file went in
    assert _import(world, strict, "x.json", b"\xff\xfe")[0] == 400
