"""The fact-checker's path through the API: upload, analysis, case, review, publication, re-uploads."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from civicshield.demo import synth
from civicshield.service.infra.jobs import run_job
from civicshield.sharing import validate_claimreview

from .conftest import World, auth


def _analyzed_item(world: World, tmp_path: Path, who: str = "factcheck:analyst") -> tuple[int, Path]:
    path = synth.save_image(synth.poster("BALLOTS BURNED", size=(700, 500), seed=3), tmp_path / "fake.jpg")
    with path.open("rb") as fh:
        r = world.client.post("/api/v1/items", files={"file": ("fake.jpg", fh)}, headers=auth(world, who))
    assert r.status_code == 202, r.text
    body = r.json()
    assert run_job(world.client.app.state.rt, body["job"]["id"]) == "done"  # type: ignore[attr-defined]
    return body["id"], path


def _publish(world: World, item_id: int, tlp: str) -> dict[str, object]:
    c, analyst, reviewer = world.client, auth(world, "factcheck:analyst"), auth(world, "factcheck:reviewer")
    case = c.post(
        "/api/v1/cases",
        json={
            "item_id": item_id,
            "title": "Photo of burned ballots is fabricated",
            "claim": "Ballots were burned in Ghent",
            "tlp": tlp,
        },
        headers=analyst,
    ).json()
    cid = case["id"]
    assert case["machine_label"] == "inconclusive"
    for to in ("triage", "in_review"):
        assert c.post(f"/api/v1/cases/{cid}/transition", json={"to": to}, headers=analyst).status_code == 200
    early = c.post(f"/api/v1/cases/{cid}/publish", headers=reviewer)
    assert early.status_code == 409 and early.json()["error"]["code"] == "conflict"  # not rated yet
    assert c.post(f"/api/v1/cases/{cid}/rating", json={"rating": "false"}, headers=analyst).status_code == 403
    assert (
        c.post(
            f"/api/v1/cases/{cid}/rating",
            json={"rating": "false", "note": "Generated image."},
            headers=reviewer,
        ).status_code
        == 200
    )
    published = c.post(f"/api/v1/cases/{cid}/publish", headers=reviewer)
    assert published.status_code == 200, published.text
    return dict(published.json())


def _reupload_bytes(path: Path) -> bytes:
    buf = io.BytesIO()
    Image.open(path).resize((500, 357)).save(buf, format="JPEG", quality=60)
    return buf.getvalue()


def test_publish_fake_then_reupload_matches_with_fact_check_link(world: World, tmp_path: Path) -> None:
    item_id, path = _analyzed_item(world, tmp_path)
    published = _publish(world, item_id, "CLEAR")
    assert published["entries_added"] >= 2  # sha256 + PDQ
    url = str(published["fact_check_url"])
    slug = url.rsplit("/", 1)[1]

    doc = world.client.get(f"/fact-checks/{slug}.jsonld?lang=nl").json()
    assert validate_claimreview(doc, recommended=False) == []
    assert doc["reviewRating"]["alternateName"]
    page = world.client.get(f"/fact-checks/{slug}?lang=fr")
    assert page.status_code == 200 and "application/ld+json" in page.text

    for who in ("factcheck:viewer", "other:viewer"):  # CLEAR: every organization matches it
        r = world.client.post(
            "/api/v1/match/file",
            files={"file": ("copy.jpg", _reupload_bytes(path))},
            headers=auth(world, who),
        )
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["verdict"] == "known_fake"
        assert result["matches"][0]["fact_check_url"] == url


def test_reupload_submitted_later_is_a_known_fake(world: World, tmp_path: Path) -> None:
    """A job's verdict consults the service's own banks: a re-upload of a published fake is labelled."""
    item_id, path = _analyzed_item(world, tmp_path)
    _publish(world, item_id, "GREEN")
    r = world.client.post(
        "/api/v1/items",
        files={"file": ("copy.jpg", _reupload_bytes(path))},
        headers=auth(world, "other:analyst"),
    )
    job_id = r.json()["job"]["id"]
    assert run_job(world.client.app.state.rt, job_id) == "done"  # type: ignore[attr-defined]
    job = world.client.get(f"/api/v1/jobs/{job_id}", headers=auth(world, "other:analyst")).json()
    assert job["label"] == "known_fake"
    reasons = job["report"]["verdict"]["reasons"]
    assert reasons[0]["code"] == "known_fakes.match" and reasons[0]["analyzer"] == "known_fakes"


def test_amber_case_stays_with_its_organization(world: World, tmp_path: Path) -> None:
    item_id, path = _analyzed_item(world, tmp_path)
    published = _publish(world, item_id, "AMBER")
    slug = str(published["fact_check_url"]).rsplit("/", 1)[1]
    assert world.client.get(f"/fact-checks/{slug}").status_code == 404  # not public
    copy = _reupload_bytes(path)
    own = world.client.post(
        "/api/v1/match/file", files={"file": ("c.jpg", copy)}, headers=auth(world, "factcheck:viewer")
    )
    other = world.client.post(
        "/api/v1/match/file", files={"file": ("c.jpg", copy)}, headers=auth(world, "other:viewer")
    )
    assert own.json()["verdict"] == "known_fake"
    assert other.json()["verdict"] == "no_match"


def test_hashes_only_matching_and_batch(world: World, tmp_path: Path) -> None:
    item_id, _ = _analyzed_item(world, tmp_path)
    _publish(world, item_id, "GREEN")
    item = world.client.get(f"/api/v1/items/{item_id}", headers=auth(world, "factcheck:viewer")).json()
    pdq = next(s for s in item["job"]["report"]["signals"] if s["analyzer"] == "phash")["evidence"]["pdq"][
        "hash"
    ]
    query = {"hashes": [{"signal_type": "pdq", "hash": pdq, "quality": 100}]}
    r = world.client.post("/api/v1/match/hashes", json=query, headers=auth(world, "other:viewer"))
    assert r.json()["verdict"] == "known_fake"
    found = world.client.get(
        "/api/v1/banks/search/by-hash", params={"value": pdq}, headers=auth(world, "other:viewer")
    )
    assert [e["hash"] for e in found.json()] == [pdq]
    unrelated = {"hashes": [{"signal_type": "pdq", "hash": "f" * 64}]}
    batch = world.client.post(
        "/api/v1/match/hashes/batch", json={"items": [query, unrelated]}, headers=auth(world, "other:viewer")
    ).json()
    assert [b["verdict"] for b in batch] == ["known_fake", "no_match"]
    bad = world.client.post(
        "/api/v1/match/hashes",
        json={"hashes": [{"signal_type": "pdq", "hash": "xyz"}]},
        headers=auth(world, "other:viewer"),
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "usage_error"


def test_audit_chain_covers_the_journey(world: World, tmp_path: Path) -> None:
    from civicshield.service.domain.audit import verify_chain

    item_id, _ = _analyzed_item(world, tmp_path)
    _publish(world, item_id, "GREEN")
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    with rt.db.session() as s:
        assert verify_chain(s, world.ids["factcheck"]) is None
        from sqlalchemy import text

        s.execute(
            text("UPDATE audit_events SET payload = '{}' WHERE seq = 3 AND org_id = :o"),
            {"o": world.ids["factcheck"]},
        )
        assert verify_chain(s, world.ids["factcheck"]) == 3


def _analyzed_file(world: World, path: Path) -> int:
    with path.open("rb") as fh:
        r = world.client.post(
            "/api/v1/items", files={"file": (path.name, fh)}, headers=auth(world, "factcheck:analyst")
        )
    assert r.status_code == 202, r.text
    assert run_job(world.client.app.state.rt, r.json()["job"]["id"]) == "done"  # type: ignore[attr-defined]
    return int(r.json()["id"])


def test_video_and_audio_fact_checks_publish_and_are_found_again(world: World, tmp_path: Path) -> None:
    """Seen (issue 17): a rated video case could not be published, previewed or shown (the item's stored
    vPDQ, one frame a line, was refused as "not a vPDQ value")."""
    video = synth.write_video(tmp_path / "speech.mp4", seconds=4.0, text="FAKE SPEECH")
    audio = synth.write_audio(tmp_path / "call.wav", synth.tone(seconds=4.0, seed=9))
    for path in (video, audio):
        item_id = _analyzed_file(world, path)
        published = _publish(world, item_id, "CLEAR")
        assert int(published["entries_added"]) >= 1, published  # type: ignore[call-overload]
        case_id = published["case"]["id"]  # type: ignore[index]
        review = world.client.get(
            f"/api/v1/cases/{case_id}/claimreview", headers=auth(world, "factcheck:viewer")
        )
        assert review.status_code == 200, review.text
        assert validate_claimreview(review.json(), recommended=False) == []
        page = world.client.get(str(published["fact_check_url"]).replace("http://testserver", ""))
        assert page.status_code == 200
        again = world.client.post(
            "/api/v1/match/file",
            files={"file": (path.name, path.read_bytes())},
            headers=auth(world, "other:viewer"),
        )
        assert again.status_code == 200, again.text
        assert again.json()["verdict"] == "known_fake", (path.name, again.json())


def test_a_duplicate_upload_names_the_earlier_item(world: World, tmp_path: Path) -> None:
    image = synth.save_image(synth.poster("TWICE", size=(400, 300), seed=5), tmp_path / "twice.jpg")
    ids = []
    for who in ("factcheck:analyst", "factcheck:analyst", "other:analyst"):
        r = world.client.post(
            "/api/v1/items", files={"file": (image.name, image.read_bytes())}, headers=auth(world, who)
        )
        assert r.status_code == 202, r.text
        ids.append((r.json()["id"], r.json()["duplicate_of"]))
    (first, none), (second, earlier), (_, elsewhere) = ids
    assert none is None and earlier == first and second != first
    assert elsewhere is None  # another organization's items are not named
