"""Reviewers' labels become a training set within consent and TLP, and the shadow report compares a
candidate with the model in use on the reviewed items (issue 15, part 3). SQLite and PostgreSQL; the shadow
report runs the real CLIP detector on development-set photos (labels from the set's manifest)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from civicshield.analyzers.ml.clip import HEAD_FILE, HEAD_SHA256
from civicshield.analyzers.ml.clip_head import ProbeHead
from civicshield.analyzers.ml.weights import shipped_file
from civicshield.demo import synth
from civicshield.learning.promotion import Comparison, Tally
from civicshield.learning.registry import ModelRegistry
from civicshield.service.app import create_app
from civicshield.service.domain.tables import AuditEvent
from civicshield.service.infra.jobs import run_job
from civicshield.service.settings import ServiceSettings
from civicshield.settings import Settings

from ..evaluation.conftest import DATASETS
from .conftest import CORE_ANALYZERS, LOOPBACK, World, _seed, auth


def _upload(world: World, who: str, data: bytes, name: str) -> int:
    up = world.client.post("/api/v1/items", files={"file": (name, data)}, headers=auth(world, who))
    assert up.status_code == 202, up.text
    assert run_job(world.client.app.state.rt, up.json()["job"]["id"]) == "done"  # type: ignore[attr-defined]
    return int(up.json()["id"])


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    synth.poster(f"ITEM {seed}", size=(320, 240), seed=seed).convert("RGB").save(buf, format="PNG")
    return buf.getvalue()


def _label(world: World, who: str, item_id: int, origin: str) -> int:
    r = world.client.put(
        f"/api/v1/items/{item_id}/label", json={"origin": origin, "note": "checked"}, headers=auth(world, who)
    )
    return r.status_code


def test_labels_need_a_reviewer_of_the_items_organization(world: World) -> None:
    item = _upload(world, "factcheck:analyst", _png(1), "a.png")
    assert _label(world, "factcheck:analyst", item, "genuine") == 403
    assert _label(world, "other:reviewer", item, "genuine") == 404
    assert _label(world, "factcheck:reviewer", item, "computer made") == 422
    assert _label(world, "factcheck:reviewer", item, "genuine") == 200
    assert _label(world, "factcheck:reviewer", item, "ai_generated") == 200  # replaces it
    mine = world.client.get("/api/v1/learning/labels", headers=auth(world, "factcheck:viewer")).json()
    assert [(x["item_id"], x["origin"], x["training_label"]) for x in mine] == [(item, "ai_generated", "ai")]
    assert world.client.get("/api/v1/learning/labels", headers=auth(world, "other:viewer")).json() == []
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        actions = s.scalars(select(AuditEvent.payload).where(AuditEvent.action == "item.label")).all()
    assert [a["origin"] for a in actions] == ["genuine", "ai_generated"]
    assert actions[1]["before"] == "genuine"


def test_consent_is_an_admins_decision(world: World) -> None:
    url = "/api/v1/learning/consent"
    assert world.client.get(url, headers=auth(world, "factcheck:viewer")).json()["consent"] is False
    assert (
        world.client.put(url, json={"consent": True}, headers=auth(world, "factcheck:reviewer")).status_code
        == 403
    )
    given = world.client.put(url, json={"consent": True}, headers=auth(world, "factcheck:org_admin"))
    assert given.status_code == 200 and given.json()["consent"] is True and given.json()["by"]
    assert world.client.get(url, headers=auth(world, "other:viewer")).json()["consent"] is False


def _publish(world: World, item_id: int, rating: str, tlp: str) -> None:
    reviewer = auth(world, "factcheck:reviewer")
    case = world.client.post(
        "/api/v1/cases", json={"item_id": item_id, "title": "t", "claim": "c", "tlp": tlp}, headers=reviewer
    ).json()
    for state in ("triage", "in_review"):
        moved = world.client.post(
            f"/api/v1/cases/{case['id']}/transition", json={"to": state}, headers=reviewer
        )
        assert moved.status_code == 200, moved.text
    world.client.post(
        f"/api/v1/cases/{case['id']}/rating", json={"rating": rating, "note": "n"}, headers=reviewer
    )
    done = world.client.post(f"/api/v1/cases/{case['id']}/publish", headers=reviewer)
    assert done.status_code == 200, done.text


def _export(world: World, monkeypatch: pytest.MonkeyPatch, out: Path, *extra: str) -> list[dict[str, str]]:
    from civicshield.cli.app import app as cli

    monkeypatch.setenv("CIVICSHIELD_DATA_DIR", str(world.settings.data_dir))
    monkeypatch.setenv("CIVICSHIELD_DATABASE_URL", world.settings.db_url)
    done = CliRunner().invoke(cli, ["admin", "learning-export", str(out), *extra])
    assert done.exit_code == 0, done.output
    with (out / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_training_set_respects_consent_and_sharing_labels(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fc = "factcheck:reviewer"
    labelled_ai = _upload(world, fc, _png(2), "ai.png")  # no case: the organization's default, AMBER
    assert _label(world, fc, labelled_ai, "ai_generated") == 200
    red = _upload(world, fc, _png(3), "red.png")
    assert _label(world, fc, red, "genuine") == 200
    _publish(world, red, "authentic", "RED")
    clear = _upload(world, fc, _png(4), "clear.png")  # a published authentic fact-check, no label
    _publish(world, clear, "authentic", "CLEAR")
    edited = _upload(world, fc, _png(5), "edited.png")
    assert _label(world, fc, edited, "edited") == 200
    theirs = _upload(world, "other:reviewer", _png(6), "theirs.png")  # its organization did not consent
    assert _label(world, "other:reviewer", theirs, "ai_generated") == 200

    assert _export(world, monkeypatch, tmp_path / "none") == []  # nobody consented yet
    world.client.put(
        "/api/v1/learning/consent", json={"consent": True}, headers=auth(world, "factcheck:org_admin")
    )
    coalition = _export(world, monkeypatch, tmp_path / "coalition")
    assert [(r["source"], r["label"], r["because"]) for r in coalition] == [
        (f"factcheck-org:item-{clear}", "real", "fact-check rated authentic")
    ]
    own = _export(world, monkeypatch, tmp_path / "own", "--org", str(world.ids["factcheck"]))
    assert sorted((r["source"], r["label"]) for r in own) == sorted(
        [(f"factcheck-org:item-{labelled_ai}", "ai"), (f"factcheck-org:item-{clear}", "real")]
    )
    for row in own:  # the files are the submitted bytes
        data = (tmp_path / "own" / row["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        exports = s.scalars(select(AuditEvent.payload).where(AuditEvent.action == "learning.export")).all()
    assert [e["items"] for e in exports] == [1, 2]
    from civicshield.cli.app import app as cli

    refused = CliRunner().invoke(cli, ["admin", "learning-export", str(tmp_path / "own")])
    assert refused.exit_code == 2 and "not empty" in refused.output
    # The export is what the trainer reads; two items are far too few to learn from or to measure.
    genuine = str(DATASETS / "realcam" / "manifest.csv")
    args = ["train", "feedback-probe", str(tmp_path / "own" / "manifest.csv"), "--genuine-check", genuine]
    trained = CliRunner().invoke(cli, [*args, "--version", "fb-1", "--data-dir", str(tmp_path / "models")])
    assert trained.exit_code == 2
    assert "too few reviewed items to learn from and measure: 1 AI-generated and 1 genuine" in " ".join(
        trained.output.split()
    )


@pytest.fixture
def clip_world(tmp_path: Path) -> World:
    """A service whose workers run the CLIP detector, with a candidate head in shadow."""
    analysis = Settings(data_dir=tmp_path / "data" / "analysis", analyzers=(*CORE_ANALYZERS, "clip_detector"))
    head = ProbeHead.load(shipped_file(HEAD_FILE, HEAD_SHA256, "test"))
    # A candidate that has everything backwards: the shipped head with its weights and bias negated.
    backwards = replace(head, version="fb-1", weights=-head.weights, bias=-head.bias)
    data = (json.dumps(backwards.to_dict()) + "\n").encode()
    registry = ModelRegistry(analysis.models_dir)
    no_gain = Tally(20, 10, 20, 0)
    registry.register(
        "clip_detector",
        "fb-1",
        model_file=data,
        card="# fb-1\n",
        comparison=Comparison("shipped", no_gain, no_gain, Tally(0, 0, 96, 0), Tally(0, 0, 96, 0)),
        sha256=hashlib.sha256(data).hexdigest(),
        actor="test",
    )
    registry.start_shadow("clip_detector", "fb-1", actor="test")
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'clip.db'}",
        secret_key="test-secret",
        webhook_allowed_networks=LOOPBACK,
        analysis=analysis,
        enforce_mfa=False,
    )
    return _seed(settings, create_app(settings))


def test_the_shadow_report_counts_what_each_model_said_of_reviewed_items(clip_world: World) -> None:
    world = clip_world
    with (DATASETS / "dev" / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["modality"] == "image"]
    chosen = [r for r in rows if r["label"] == "real"][:3] + [r for r in rows if r["label"] == "ai"][:2]
    for row in chosen:
        data = (DATASETS / "dev" / row["path"]).read_bytes()
        item = _upload(world, "factcheck:reviewer", data, Path(row["path"]).name)
        origin = "ai_generated" if row["label"] == "ai" else "genuine"
        assert _label(world, "factcheck:reviewer", item, origin) == 200
    report = world.client.get(
        "/api/v1/learning/shadow", params={"version": "fb-1"}, headers=auth(world, "factcheck:reviewer")
    ).json()
    assert report["not_scored"] == 0
    # The shipped head catches both AI images and accuses none of the genuine photos; the backwards
    # candidate, scored beside it on the same analyses, does the opposite and decided nothing.
    assert report["active"] == {"ai": 2, "caught": 2, "genuine": 3, "flagged": 0}
    assert report["shadow"] == {"ai": 2, "caught": 0, "genuine": 3, "flagged": 3}
    assert report["disagreements"] == 5
    other = world.client.get(
        "/api/v1/learning/shadow", params={"version": "fb-1"}, headers=auth(world, "other:reviewer")
    ).json()
    assert other["active"]["ai"] == 0 and other["not_scored"] == 0  # another organization's items stay hidden
    unknown = world.client.get(
        "/api/v1/learning/shadow", params={"version": "fb-9"}, headers=auth(world, "factcheck:reviewer")
    ).json()
    assert unknown["not_scored"] == 5
