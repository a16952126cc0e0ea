"""Liveness and readiness, with the analyzers a worker could load (issue 9, parts 2 and 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from civicshield.demo import synth
from civicshield.service.app import create_app
from civicshield.service.infra.jobs import run_job
from civicshield.service.settings import ServiceSettings
from civicshield.settings import Settings

from .conftest import World, _seed, auth

BROKEN = "broken_model=tests.analyzers.plugin_broken_model:BrokenModel"


def test_readiness_names_a_missing_line_of_evidence_while_items_are_still_analyzed(
    database_url: str, tmp_path: Path
) -> None:
    analysis = Settings(
        data_dir=tmp_path / "data", plugins=(BROKEN,), analyzers=("c2pa", "metadata", "phash", "broken_model")
    )
    settings = ServiceSettings(
        data_dir=tmp_path / "data", database_url=database_url, secret_key="k", analysis=analysis
    )
    app = create_app(settings)
    try:
        world = _seed(settings, app)
        client = TestClient(app)
        assert client.get("/healthz").json()["status"] == "ok"
        before = client.get("/readyz")
        assert before.status_code == 200 and before.json()["analyzers"]["status"].startswith("not loaded")
        path = synth.save_image(synth.poster(size=(300, 200)), tmp_path / "p.jpg")
        with path.open("rb") as fh:
            item = client.post(
                "/api/v1/items", files={"file": ("p.jpg", fh)}, headers=auth(world, "factcheck:analyst")
            )
        job_id = item.json()["job"]["id"]
        assert run_job(app.state.rt, job_id) == "done"
        job = client.get(f"/api/v1/jobs/{job_id}", headers=auth(world, "factcheck:analyst")).json()
        assert job["report"]["unavailable"][0]["analyzer"] == "broken_model"
        ready = client.get("/readyz").json()
        assert ready["database"] == "ok" and ready["analyzers"]["status"] == "degraded"
        assert ready["analyzers"]["unavailable"][0]["analyzer"] == "broken_model"
        assert "phash" in ready["analyzers"]["ready"]
    finally:
        app.state.rt.db.dispose()


def test_readiness_fails_when_the_database_does_not_answer(tmp_path: Path) -> None:
    settings = ServiceSettings(data_dir=tmp_path / "data", secret_key="k")
    app = create_app(settings)
    app.state.rt.db.dispose()
    (tmp_path / "data" / "civicshield.db").unlink()
    (tmp_path / "data" / "civicshield.db").mkdir()  # the file is gone and cannot come back
    r = TestClient(app).get("/readyz")
    assert r.status_code == 503 and r.json()["status"] == "not_ready"


def test_prometheus_metrics_count_jobs_lookups_and_missing_analyzers(world: World, tmp_path: Path) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    client = world.client
    path = synth.save_image(synth.poster(size=(300, 200), seed=2), tmp_path / "m.jpg")
    with path.open("rb") as fh:
        item = client.post(
            "/api/v1/items", files={"file": ("m.jpg", fh)}, headers=auth(world, "factcheck:analyst")
        )
    assert item.status_code == 202
    body = {"hashes": [{"signal_type": "pdq", "hash": "f" * 64, "quality": 100}]}
    assert (
        client.post("/api/v1/match/hashes", json=body, headers=auth(world, "factcheck:viewer")).status_code
        == 200
    )
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for s in family.samples
    }
    assert samples[("civicshield_queue_depth", ())] == 1.0
    assert samples[("civicshield_jobs", (("state", "queued"),))] == 1.0
    assert samples[("civicshield_match_lookups_total", (("outcome", "none"),))] == 1.0
    assert run_job(client.app.state.rt, item.json()["job"]["id"]) == "done"  # type: ignore[attr-defined]
    after = client.get("/metrics").text
    assert "civicshield_queue_depth 0.0" in after and "civicshield_job_latency_seconds_count 1.0" in after


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CIVICSHIELD_JOB_LEASE_S", "ten"),
        ("CIVICSHIELD_SMTP_PORT", "25x"),
        ("CIVICSHIELD_SESSION_IDLE_S", "-5"),
        ("CIVICSHIELD_PUBLIC_CONCURRENCY", "1.5"),
    ],
)
def test_a_bad_number_in_the_environment_names_the_variable(tmp_path: Path, name: str, value: str) -> None:
    from civicshield.errors import ConfigurationError

    env = {"CIVICSHIELD_DATA_DIR": str(tmp_path), "CIVICSHIELD_SECRET_KEY": "k" * 32, name: value}
    with pytest.raises(ConfigurationError, match=name):
        ServiceSettings.from_env(env)
