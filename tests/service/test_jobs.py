"""Analysis jobs through a real broker and separate worker processes (Redis, RabbitMQ, the embedded SQLite
queue), including a worker killed mid-job on each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from civicshield.demo import synth
from civicshield.service.app import create_app
from civicshield.service.settings import ServiceSettings

from .conftest import CORE_ANALYZERS, World, _fresh_pg_database, _seed, auth

REDIS = "redis://127.0.0.1:6379"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672"


def _rabbitmq_vhost() -> str:
    """A fresh virtual host, so that no other test's messages share the queue (removed at the end)."""
    name = f"cs_test_{uuid.uuid4().hex[:10]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, timeout=60)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        check=True,
        timeout=60,
    )
    return name


def _worker(settings: ServiceSettings, name: str, log: Path, slow_s: float = 0.0) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "CIVICSHIELD_PLUGINS": "slow=tests.service.slow_plugin:SlowAnalyzer",
            "SLOW_ANALYZER_S": str(slow_s),
            "CIVICSHIELD_ANALYZERS": ",".join((*CORE_ANALYZERS, "slow")),
        }
    )
    env.update(
        {
            "CIVICSHIELD_DATA_DIR": str(settings.data_dir),
            "CIVICSHIELD_DATABASE_URL": settings.db_url,
            "CIVICSHIELD_BROKER_URL": settings.broker,
            "CIVICSHIELD_JOB_LEASE_S": str(settings.job_lease_s),
            "CIVICSHIELD_BASE_URL": "http://testserver",
        }
    )
    with log.open("ab") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "civicshield", "worker", "--hostname", f"{name}@%h"],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_job(world: World, job_id: int, states: set[str], timeout: float = 90) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = world.client.get(f"/api/v1/jobs/{job_id}", headers=auth(world, "factcheck:analyst")).json()
        if job["state"] in states:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} never reached {states}: {job}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(params=["redis+postgresql", "rabbitmq+postgresql", "embedded-sqlite"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    data = tmp_path / "data"
    vhost = None
    if request.param == "rabbitmq+postgresql":
        vhost = _rabbitmq_vhost()
        settings = ServiceSettings(
            data_dir=data,
            database_url=_fresh_pg_database(),
            broker_url=f"{RABBITMQ}/{vhost}",
            secret_key="k",
            job_lease_s=6,
        )
    elif request.param == "redis+postgresql":
        db_index = 1 + uuid.uuid4().int % 14
        redis.Redis.from_url(f"{REDIS}/{db_index}").flushdb()
        settings = ServiceSettings(
            data_dir=data,
            database_url=_fresh_pg_database(),
            broker_url=f"{REDIS}/{db_index}",
            secret_key="k",
            job_lease_s=6,
        )
    else:
        settings = ServiceSettings(data_dir=data, secret_key="k", job_lease_s=6)
    app = create_app(settings)
    world = _seed(settings, app)
    yield world
    app.state.rt.db.dispose()
    if vhost is not None:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, timeout=60)


def _upload(world: World, path: Path) -> int:
    with path.open("rb") as fh:
        r = world.client.post(
            "/api/v1/items", files={"file": (path.name, fh)}, headers=auth(world, "factcheck:analyst")
        )
    assert r.status_code == 202, r.text
    return int(r.json()["job"]["id"])


def test_upload_is_analyzed_by_a_separate_worker(setup: World, tmp_path: Path) -> None:
    world = setup
    image = synth.save_image(synth.poster(size=(400, 400)), tmp_path / "poster.png", "PNG")
    job_id = _upload(world, image)
    worker = _worker(world.settings, "w1", tmp_path / "w1.log")
    try:
        job = _wait_job(world, job_id, {"done", "failed"})
    finally:
        _stop(worker)
    assert job["state"] == "done", (tmp_path / "w1.log").read_text()[-3000:]
    assert job["label"] == "inconclusive"
    report = job["report"]
    assert isinstance(report, dict) and report["media"]["name"] == "poster.png"


def test_killed_worker_job_completes_on_another(setup: World, tmp_path: Path) -> None:
    world = setup
    image = synth.save_image(synth.poster(size=(400, 400)), tmp_path / "poster.png", "PNG")
    job_id = _upload(world, image)
    first = _worker(world.settings, "doomed", tmp_path / "doomed.log", slow_s=600)
    try:
        _wait_job(world, job_id, {"running"}, timeout=60)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    second = _worker(world.settings, "rescuer", tmp_path / "rescuer.log")
    try:
        job = _wait_job(world, job_id, {"done", "failed"}, timeout=120)
    finally:
        _stop(second)
    assert job["state"] == "done", (tmp_path / "rescuer.log").read_text()[-3000:]
    assert int(job["attempts"]) >= 2  # type: ignore[call-overload]


def test_bad_upload_is_refused_and_nothing_is_stored(setup: World, tmp_path: Path) -> None:
    world = setup
    r = world.client.post(
        "/api/v1/items",
        files={"file": ("x.jpg", b"\xff\xd8\xff\xe0garbage")},
        headers=auth(world, "factcheck:analyst"),
    )
    assert r.status_code in (415, 422)
    assert r.json()["error"]["code"] in {"corrupt_media", "unsupported_media"}
    assert not any((world.settings.blob_dir).rglob("*")) if world.settings.blob_dir.exists() else True
    _ = TestClient
