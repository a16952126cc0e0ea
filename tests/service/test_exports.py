"""Direct STIX 2.1 and MISP exports of a published case: valid, TLP-marked, and for the owner only."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
import stix2

from civicshield.demo import synth
from civicshield.errors import UsageError
from civicshield.service.domain import exports
from civicshield.service.domain.banks import SHARED_WITH_COMMUNITY
from civicshield.service.domain.tables import Case
from civicshield.service.infra.jobs import run_job
from civicshield.sharing import TLP, Audience, validate_stix
from civicshield.sharing.tlp import TLP2_MARKING_IDS, labels_for

from .conftest import World, auth

TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")


def analyzed_item(world: World, tmp_path: Path, seed: int = 3, org: str = "factcheck") -> int:
    """An uploaded image whose analysis job has run, so the item carries its hashes."""
    image = synth.poster(f"BALLOTS BURNED {seed}", size=(700, 500), seed=seed)
    path = synth.save_image(image, tmp_path / f"fake-{seed}.jpg")
    with path.open("rb") as fh:
        r = world.client.post(
            "/api/v1/items", files={"file": (path.name, fh)}, headers=auth(world, f"{org}:analyst")
        )
    assert r.status_code == 202, r.text
    assert run_job(world.client.app.state.rt, r.json()["job"]["id"]) == "done"  # type: ignore[attr-defined]
    return int(r.json()["id"])


def open_case(world: World, item_id: int, tlp: str, title: str, org: str = "factcheck") -> int:
    """A case rated false and ready to publish."""
    c, analyst, reviewer = world.client, auth(world, f"{org}:analyst"), auth(world, f"{org}:reviewer")
    body = {"item_id": item_id, "title": title, "claim": f"Claim behind {title}", "tlp": tlp}
    r = c.post("/api/v1/cases", json=body, headers=analyst)
    assert r.status_code == 201, r.text
    cid = int(r.json()["id"])
    for to in ("triage", "in_review"):
        assert c.post(f"/api/v1/cases/{cid}/transition", json={"to": to}, headers=analyst).status_code == 200
    rated = c.post(
        f"/api/v1/cases/{cid}/rating", json={"rating": "false", "note": "Generated."}, headers=reviewer
    )
    assert rated.status_code == 200, rated.text
    return cid


def publish_case(world: World, item_id: int, tlp: str, title: str, org: str = "factcheck") -> int:
    cid = open_case(world, item_id, tlp, title, org)
    r = world.client.post(f"/api/v1/cases/{cid}/publish", headers=auth(world, f"{org}:reviewer"))
    assert r.status_code == 200, r.text
    return cid


def _marking_refs(bundle: dict[str, object]) -> set[str]:
    objects = bundle["objects"]
    assert isinstance(objects, list)
    return {ref for o in objects for ref in o.get("object_marking_refs", [])}


def test_stix_export_of_every_label_is_valid_and_marked(world: World, tmp_path: Path) -> None:
    item = analyzed_item(world, tmp_path)
    for tlp in TLPS:
        cid = publish_case(world, item, tlp, f"Fabricated ballot photo ({tlp})")
        r = world.client.get(f"/api/v1/cases/{cid}/stix", headers=auth(world, "factcheck:viewer"))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/stix+json;version=2.1"
        bundle = r.json()
        assert validate_stix(bundle, ignore=()) == [], tlp  # strict, every check (302 included)
        stix2.parse(r.text)  # the OASIS library, without allow_custom
        assert _marking_refs(bundle) == {TLP2_MARKING_IDS[TLP.parse(tlp)]}
        types = {o["type"] for o in bundle["objects"]}
        assert {"report", "indicator", "marking-definition", "file"} <= types
        patterns = {o["pattern"] for o in bundle["objects"] if o["type"] == "indicator"}
        assert any("SHA-256" in p for p in patterns) and any("'.pdq = '" in p for p in patterns)


def test_the_report_names_the_served_claimreview_by_its_hash(world: World, tmp_path: Path) -> None:
    cid = publish_case(world, analyzed_item(world, tmp_path), "CLEAR", "Fabricated ballot photo")
    bundle = world.client.get(f"/api/v1/cases/{cid}/stix", headers=auth(world, "factcheck:viewer")).json()
    (reference,) = next(o for o in bundle["objects"] if o["type"] == "report")["external_references"]
    served = world.client.get(reference["url"].removeprefix("http://127.0.0.1:8000"))
    assert served.status_code == 200 and served.headers["content-type"] == "application/ld+json"
    assert reference["hashes"]["SHA-256"] == hashlib.sha256(served.content).hexdigest()
    assert served.json()["@type"] == "ClaimReview"


def test_export_is_deterministic(world: World, tmp_path: Path) -> None:
    cid = publish_case(world, analyzed_item(world, tmp_path), "GREEN", "Fabricated ballot photo")
    first = world.client.get(f"/api/v1/cases/{cid}/stix", headers=auth(world, "factcheck:viewer"))
    again = world.client.get(f"/api/v1/cases/{cid}/stix", headers=auth(world, "factcheck:analyst"))
    assert first.content == again.content


@pytest.mark.parametrize(("tlp", "distribution"), [("CLEAR", "3"), ("GREEN", "1"), ("AMBER+STRICT", "0")])
def test_misp_export_carries_the_tlp_tag(world: World, tmp_path: Path, tlp: str, distribution: str) -> None:
    cid = publish_case(world, analyzed_item(world, tmp_path), tlp, "Fabricated ballot photo")
    r = world.client.get(f"/api/v1/cases/{cid}/misp", headers=auth(world, "factcheck:viewer"))
    assert r.status_code == 200, r.text
    event = r.json()["Event"]
    assert {"name": f"tlp:{tlp.lower()}"} in event["Tag"]
    assert event["distribution"] == distribution
    sha256 = [a for a in event["Attribute"] if a["type"] == "sha256"]
    assert len(sha256) == 1 and sha256[0]["to_ids"] is True


def test_exports_stay_with_the_owner(world: World, tmp_path: Path) -> None:
    cid = publish_case(world, analyzed_item(world, tmp_path), "CLEAR", "Fabricated ballot photo")
    for kind in ("stix", "misp"):
        url = f"/api/v1/cases/{cid}/{kind}"
        other = world.client.get(url, headers=auth(world, "other:org_admin"))
        assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
        assert world.client.get(url).status_code == 401


def test_unpublished_case_is_not_exported(world: World, tmp_path: Path) -> None:
    cid = open_case(world, analyzed_item(world, tmp_path), "GREEN", "Still in review")
    for kind in ("stix", "misp"):
        r = world.client.get(f"/api/v1/cases/{cid}/{kind}", headers=auth(world, "factcheck:reviewer"))
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"


# ---- the rules, without a database ------------------------------------------------------------------------


def test_community_labels_are_the_bank_visibility_rule() -> None:
    """TLP 2.0: the community may receive CLEAR and GREEN; an organization itself everything but RED."""
    assert SHARED_WITH_COMMUNITY == ("CLEAR", "GREEN")
    assert labels_for(Audience.OWN_ORGANIZATION) == ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT")


@pytest.mark.parametrize("tlp", list(TLP))
def test_may_receive(tlp: str) -> None:
    case = Case(org_id=1, tlp=tlp, state="published")
    assert exports.may_receive(1, case) is (tlp != "RED")
    assert exports.may_receive(2, case) is (tlp in ("CLEAR", "GREEN"))
    case.state = "in_review"
    assert not exports.may_receive(1, case)


def test_cursor_round_trip_and_garbage() -> None:
    key = (
        dt.datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=dt.UTC),
        5,
        "indicator--x",
        "2026-05-01T12:00:00.123Z",
    )
    assert exports.decode_cursor(exports.encode_cursor(key)) == key
    for garbage in ("", "not base64!", "WzFd", exports.encode_cursor(key)[:-3]):
        with pytest.raises(UsageError):
            exports.decode_cursor(garbage)


def test_timestamps() -> None:
    moment = exports.parse_timestamp("2026-05-01T12:00:00Z")
    assert exports.taxii_timestamp(moment) == "2026-05-01T12:00:00.000000Z"
    assert exports.parse_timestamp("2026-05-01T14:00:00.5+02:00") == moment.replace(microsecond=500000)
    for bad in ("yesterday", "2026-05-01T12:00:00"):
        with pytest.raises(UsageError):
            exports.parse_timestamp(bad)
