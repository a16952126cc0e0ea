"""Correcting and retracting a published fact-check (issue 13, part 4): the page, ClaimReview, STIX, bank
entries, webhooks and the public transparency log all follow. SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from civicshield.service.domain.tables import BankEntryRow, Case, Delivery
from civicshield.transparency.verify import public_key, verify_copy

from .conftest import World, auth
from .test_events import _publish


def _case_id(world: World, slug: str) -> int:
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        return int(s.scalar(select(Case.id).where(Case.slug == slug)) or 0)


def _entries_of(world: World, case_id: int) -> int:
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        return int(
            s.scalar(select(func.count()).select_from(BankEntryRow).where(BankEntryRow.case_id == case_id))
            or 0
        )


def test_a_fact_check_is_corrected_then_retracted_and_everything_follows(world: World) -> None:
    hook = world.client.post(
        "/api/v1/webhooks",
        json={
            "url": "http://127.0.0.1:9/hook",
            "events": ["fact_check.corrected", "fact_check.retracted"],
            "max_tlp": "CLEAR",
        },
        headers=auth(world, "factcheck:org_admin"),
    )
    assert hook.status_code == 201, hook.text
    slug = _publish(world, 31, "Photo of ballots dumped in a canal", "false")
    case_id = _case_id(world, slug)
    assert _entries_of(world, case_id) > 0  # published as a debunk: its hashes are banked
    url = f"/api/v1/cases/{case_id}"
    reviewer = auth(world, "factcheck:reviewer")

    assert (
        world.client.post(
            f"{url}/correction", json={"note": "x"}, headers=auth(world, "factcheck:analyst")
        ).status_code
        == 403
    )
    assert (
        world.client.post(
            f"{url}/correction", json={"note": "x"}, headers=auth(world, "other:reviewer")
        ).status_code
        == 404
    )
    corrected = world.client.post(
        f"{url}/correction",
        json={"rating": "manipulated", "note": "The canal photo is real; the ballots were added digitally."},
        headers=reviewer,
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["rating"] == "manipulated" and corrected.json()["modified_at"]
    review = world.client.get(f"/fact-checks/{slug}.jsonld").json()
    assert review["reviewRating"]["alternateName"] == "Manipulated" and "dateModified" in review
    page = world.client.get(f"/fact-checks/{slug}").text
    assert "History" in page and "rating was false" in page and "added digitally" in page
    stix = world.client.get(f"{url}/stix", headers=reviewer).json()
    report = next(o for o in stix["objects"] if o["type"] == "report")
    assert report["modified"] > report["created"] and "revoked" not in report
    assert _entries_of(world, case_id) > 0  # manipulated still debunks

    authentic = world.client.post(
        f"{url}/correction",
        json={"rating": "authentic", "note": "The photo is genuine after all."},
        headers=reviewer,
    )
    assert authentic.status_code == 200 and _entries_of(world, case_id) == 0  # withdrawn from the bank

    retracted = world.client.post(
        f"{url}/retraction", json={"reason": "Reviewed the wrong photo."}, headers=reviewer
    )
    assert retracted.status_code == 200 and retracted.json()["retracted_at"]
    assert (
        world.client.post(f"{url}/retraction", json={"reason": "again"}, headers=reviewer).status_code == 409
    )
    assert world.client.post(f"{url}/correction", json={"note": "later"}, headers=reviewer).status_code == 409
    page = world.client.get(f"/fact-checks/{slug}").text
    assert (
        "Retracted by its publisher" in page and "Reviewed the wrong photo." in page and "ld+json" not in page
    )
    gone = world.client.get(f"/fact-checks/{slug}.jsonld")
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "gone"
    stix = world.client.get(f"{url}/stix", headers=reviewer).json()
    assert all(o.get("revoked") is True for o in stix["objects"] if o["type"] in ("report", "indicator"))

    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        events = sorted(
            d.event for d in s.scalars(select(Delivery).where(Delivery.webhook_id == hook.json()["id"]))
        )
    assert events == ["fact_check.corrected", "fact_check.corrected", "fact_check.retracted"]

    kinds = [e["kind"] for e in world.client.get("/api/v1/transparency/entries").json()]
    assert kinds == [
        "fact_check.published",
        "fact_check.corrected",
        "fact_check.corrected",
        "fact_check.retracted",
    ]
    head = world.client.get("/api/v1/transparency/head").json()
    log = world.client.get("/api/v1/transparency/log").json()
    assert verify_copy(log, trusted_key=public_key(head["public_key"])).ok


def test_an_unpublished_case_is_neither_corrected_nor_retracted(world: World) -> None:
    import io

    from civicshield.demo import synth

    buf = io.BytesIO()
    synth.poster("DRAFT", size=(320, 240), seed=33).convert("RGB").save(buf, format="PNG")
    reviewer = auth(world, "factcheck:reviewer")
    item = world.client.post(
        "/api/v1/items", files={"file": ("draft.png", buf.getvalue())}, headers=reviewer
    ).json()
    case = world.client.post(
        "/api/v1/cases", json={"item_id": item["id"], "title": "Draft", "tlp": "CLEAR"}, headers=reviewer
    ).json()
    url = f"/api/v1/cases/{case['id']}"
    assert world.client.post(f"{url}/correction", json={"note": "x"}, headers=reviewer).status_code == 409
    assert world.client.post(f"{url}/retraction", json={"reason": "x"}, headers=reviewer).status_code == 409
    assert world.client.post(f"{url}/correction", json={"note": ""}, headers=reviewer).status_code == 422
