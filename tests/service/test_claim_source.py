"""Who made the claim, when and where: from the case to ClaimReview's itemReviewed, STIX and MISP."""

from __future__ import annotations

from pathlib import Path

from civicshield.sharing import validate_claimreview

from .conftest import World, auth
from .test_exports import analyzed_item


def _publish(world: World, body: dict[str, object]) -> dict[str, object]:
    c, analyst, reviewer = world.client, auth(world, "factcheck:analyst"), auth(world, "factcheck:reviewer")
    r = c.post("/api/v1/cases", json=body, headers=analyst)
    assert r.status_code == 201, r.text
    case = r.json()
    for to in ("triage", "in_review"):
        c.post(f"/api/v1/cases/{case['id']}/transition", json={"to": to}, headers=analyst)
    c.post(
        f"/api/v1/cases/{case['id']}/rating", json={"rating": "false", "note": "Made up."}, headers=reviewer
    )
    assert c.post(f"/api/v1/cases/{case['id']}/publish", headers=reviewer).status_code == 200
    return dict(c.get(f"/api/v1/cases/{case['id']}", headers=reviewer).json())


def test_the_claim_source_reaches_the_claimreview(world: World, tmp_path: Path) -> None:
    body = {
        "item_id": analyzed_item(world, tmp_path),
        "title": "Burned ballots photo",
        "claim": "Ballots were burned in district 4",
        "tlp": "CLEAR",
        "claim_author": "Election Truth Now",
        "claim_author_kind": "Organization",
        "claim_date": "2026-11-30",
        "claim_url": "https://social.example/posts/991",
    }
    case = _publish(world, body)
    assert (case["claim_author"], case["claim_date"]) == ("Election Truth Now", "2026-11-30")
    doc = world.client.get(f"/fact-checks/{case['slug']}.jsonld").json()
    item = doc["itemReviewed"]
    assert item["author"] == {"@type": "Organization", "name": "Election Truth Now"}
    assert item["datePublished"] == "2026-11-30"
    assert {"@type": "CreativeWork", "url": "https://social.example/posts/991"} in item["appearance"]
    assert validate_claimreview(doc) == []
    stix = world.client.get(
        f"/api/v1/cases/{case['id']}/stix", headers=auth(world, "factcheck:viewer")
    ).json()
    urls = {o["value"] for o in stix["objects"] if o["type"] == "url"}
    assert urls == {"https://social.example/posts/991"}
    observed = next(o for o in stix["objects"] if o["type"] == "observed-data")
    assert observed["first_observed"].startswith("2026-11-30")


def test_a_claim_url_must_be_an_absolute_web_address(world: World, tmp_path: Path) -> None:
    body = {"item_id": analyzed_item(world, tmp_path), "title": "x", "claim_url": "javascript:alert(1)"}
    r = world.client.post("/api/v1/cases", json=body, headers=auth(world, "factcheck:analyst"))
    assert r.status_code == 422
