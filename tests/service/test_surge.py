"""Surge: an election incident's items are analyzed ahead of a backlog (issue 15). Measured with a real
Redis broker and a real worker process: a backlog is queued first, then an item attached to an incident; the
worker starts and the incident's item is the first one analyzed."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import redis
from sqlalchemy import select

from civicshield.demo import synth
from civicshield.service.app import create_app
from civicshield.service.domain.tables import Job
from civicshield.service.settings import ServiceSettings

from .conftest import CORE_ANALYZERS, _seed, auth, core_analysis

REDIS = "redis://127.0.0.1:6379/15"  # tests/service/test_jobs.py uses databases 1-14
BACKLOG = 12


def _poster(n: int) -> bytes:
    buf = io.BytesIO()
    synth.poster(f"ITEM {n}", size=(320, 240), seed=500 + n).convert("RGB").save(buf, format="PNG")
    return buf.getvalue()


def test_an_incidents_item_is_analyzed_ahead_of_a_backlog(tmp_path: Path) -> None:
    redis.Redis.from_url(REDIS).flushdb()
    data = tmp_path / "data"
    settings = ServiceSettings(
        data_dir=data,
        database_url=f"sqlite:///{tmp_path / 'cs.db'}",
        broker_url=REDIS,
        secret_key="surge",
        base_url="http://127.0.0.1:9",
        analysis=core_analysis(data),
        enforce_mfa=False,
    )
    app = create_app(settings)
    world = _seed(settings, app)
    client = world.client
    backlog = []
    for n in range(BACKLOG):
        r = client.post(
            "/api/v1/items", files={"file": (f"b{n}.png", _poster(n))}, headers=auth(world, "other:analyst")
        )
        backlog.append(r.json()["job"]["id"])
    incident = client.post(
        "/api/v1/incidents",
        json={"title": "Fake robocall", "severity": "critical", "targets": ["Anna de Vries"]},
        headers=auth(world, "factcheck:org_admin"),
    ).json()
    urgent = client.post(
        "/api/v1/items", files={"file": ("urgent.png", _poster(99))}, headers=auth(world, "factcheck:analyst")
    ).json()
    attached = client.post(
        f"/api/v1/incidents/{incident['id']}/items",
        json={"item_id": urgent["id"]},
        headers=auth(world, "factcheck:analyst"),
    )
    assert attached.status_code == 201 and attached.json()["surged_job"] == urgent["job"]["id"]

    env = {
        **os.environ,
        "CIVICSHIELD_DATABASE_URL": settings.db_url,
        "CIVICSHIELD_BROKER_URL": REDIS,
        "CIVICSHIELD_DATA_DIR": str(data),
        "CIVICSHIELD_SECRET_KEY": "surge",
        "CIVICSHIELD_BASE_URL": "http://127.0.0.1:9",
        "CIVICSHIELD_ANALYZERS": ",".join(CORE_ANALYZERS),
    }
    with (tmp_path / "worker.log").open("ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "civicshield", "worker"],
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with app.state.rt.db.reading() as s:
                jobs = {j.id: j for j in s.scalars(select(Job))}
                if all(j.state in ("done", "failed") for j in jobs.values()):
                    break
            time.sleep(0.5)
        finished = sorted(jobs.values(), key=lambda j: (j.updated_at, j.id))
        assert all(j.state == "done" for j in finished), (tmp_path / "worker.log").read_text()[-3000:]
        order = [j.id for j in finished]
        rank = order.index(urgent["job"]["id"])
        waits = {j.id: (j.updated_at - j.created_at).total_seconds() for j in finished}
        backlog_waits = sorted(waits[i] for i in backlog)
        print(
            f"surge job finished {rank + 1} of {len(order)}; its wait {waits[urgent['job']['id']]:.1f} s, "
            f"backlog median {backlog_waits[len(backlog_waits) // 2]:.1f} s"
        )
        assert rank == 0  # ahead of all twelve queued before it
    finally:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
        app.state.rt.db.dispose()
