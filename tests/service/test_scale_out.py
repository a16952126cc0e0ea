"""Scale-out as documented: two API processes and two workers on PostgreSQL with RabbitMQ, as real processes.

Uploads through either API are analyzed by either worker; one API process killed outright leaves the other
answering, and nothing accepted is lost (issue 9, part 5).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from civicshield.banks import BankEntry
from civicshield.demo import synth
from civicshield.service.domain import banks, store
from civicshield.service.domain.tables import BankRow
from civicshield.service.infra.db.engine import Database, migrate

from .conftest import _fresh_pg_database, drop_pg_database
from .test_jobs import RABBITMQ, _rabbitmq_vhost

CORE = "c2pa,metadata,watermark,phash,known_fakes,official_media"


@dataclass
class Cluster:
    apis: list[tuple[subprocess.Popen[bytes], str]]
    workers: list[subprocess.Popen[bytes]]
    key: str
    db_url: str


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    db_url, vhost = _fresh_pg_database(), _rabbitmq_vhost()
    db = Database(db_url)
    migrate(db.engine)
    with db.session() as s:
        org = store.create_org(s, "scale-org", "fact_checker")
        user = store.create_user(s, org.id, "a@scale.test", "A", "analyst", "correct horse battery")
        key = store.create_api_key(s, store.principal_for(user), "k", ["read", "submit"]).token
    db.dispose()
    env = {
        **os.environ,
        "CIVICSHIELD_DATABASE_URL": db_url,
        "CIVICSHIELD_BROKER_URL": f"{RABBITMQ}/{vhost}",
        "CIVICSHIELD_SECRET_KEY": "scale-out",
        "CIVICSHIELD_ANALYZERS": CORE,
        "CIVICSHIELD_LOG_FORMAT": "json",
    }
    procs: list[subprocess.Popen[bytes]] = []
    apis: list[tuple[subprocess.Popen[bytes], str]] = []
    workers: list[subprocess.Popen[bytes]] = []
    log = (tmp_path / "cluster.log").open("ab")
    for n in range(2):
        port = _port()
        api = subprocess.Popen(
            [sys.executable, "-m", "civicshield", "serve", "--no-worker", "--port", str(port)],
            env={**env, "CIVICSHIELD_DATA_DIR": str(tmp_path / "shared")},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        apis.append((api, f"http://127.0.0.1:{port}"))
        worker = subprocess.Popen(
            [sys.executable, "-m", "civicshield", "worker", "--hostname", f"w{n}@%h"],
            env={
                **env,
                "CIVICSHIELD_DATA_DIR": str(tmp_path / "shared"),
                "CIVICSHIELD_BASE_URL": apis[-1][1],
            },
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        workers.append(worker)
        procs += [api, worker]
    try:
        for api, base in apis:
            deadline, up = time.monotonic() + 120, False
            while not up and time.monotonic() < deadline and api.poll() is None:
                try:
                    up = httpx.get(f"{base}/healthz", timeout=2).status_code == 200
                except httpx.HTTPError:
                    time.sleep(0.3)
            log.flush()
            assert up, f"{base} did not come up:\n" + (tmp_path / "cluster.log").read_text()[-3000:]
        yield Cluster(apis, workers, key, db_url)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, timeout=60)
        drop_pg_database(db_url)


def test_two_apis_two_workers_and_an_api_killed(cluster: Cluster, tmp_path: Path) -> None:
    """Every process shares one data directory for the stored media, as a deployment shares a volume."""
    headers = {"Authorization": f"Bearer {cluster.key}"}
    jobs: list[tuple[str, int]] = []
    for n in range(6):
        _, base = cluster.apis[n % 2]
        data = synth.save_image(
            synth.poster(f"SCALE {n}", size=(300, 200), seed=n), tmp_path / f"{n}.jpg"
        ).read_bytes()
        r = httpx.post(
            f"{base}/api/v1/items", files={"file": (f"{n}.jpg", data)}, headers=headers, timeout=30
        )
        assert r.status_code == 202, r.text
        jobs.append((base, int(r.json()["job"]["id"])))
    killed, survivor = cluster.apis[0][0], cluster.apis[1][1]
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(10)
    deadline = time.monotonic() + 120
    states: dict[int, str] = {}
    while time.monotonic() < deadline:
        for _, job_id in jobs:
            states[job_id] = httpx.get(
                f"{survivor}/api/v1/jobs/{job_id}", headers=headers, timeout=10
            ).json()["state"]
        if all(state == "done" for state in states.values()):
            break
        time.sleep(0.5)
    assert set(states.values()) == {"done"}, states
    assert httpx.get(f"{survivor}/readyz", timeout=10).json()["database"] == "ok"


def _api_processes(pid: int) -> list[int]:
    """The processes uvicorn started for ``serve --processes`` (not multiprocessing's resource tracker)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    pids = [int(x) for x in out.split()]
    return [p for p in pids if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]


def test_serve_with_several_processes_answers_from_each_and_follows_the_banks(tmp_path: Path) -> None:
    """``serve --processes 2``: two API processes on one port, each matching entries that another process
    added; SIGTERM stops them all."""
    db_url = _fresh_pg_database()
    db = Database(db_url)
    migrate(db.engine)
    rng = np.random.default_rng(3)
    first, later = (rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex() for _ in range(2))
    with db.session() as s:
        org = store.create_org(s, "match-org", "platform")
        user = store.create_user(s, org.id, "r@match.test", "R", "reviewer", "correct horse battery")
        who = store.principal_for(user)
        key = store.create_api_key(s, who, "k", ["read", "match"]).token
        bank = banks.create_bank(s, who, "fakes", "known_fake", "AMBER")
        banks.add_entries(s, who, bank, [BankEntry.create("pdq", first, "first fake")])
    port = _port()
    env = {**os.environ, "CIVICSHIELD_DATABASE_URL": db_url, "CIVICSHIELD_SECRET_KEY": "procs"}
    env["CIVICSHIELD_DATA_DIR"] = str(tmp_path / "data")
    log = (tmp_path / "serve.log").open("ab")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "civicshield",
            "serve",
            "--no-worker",
            "--processes",
            "2",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}

    def verdicts(code: str, n: int) -> set[str]:
        body = {"hashes": [{"signal_type": "pdq", "hash": code, "quality": 100}]}
        return {
            httpx.post(f"{base}/api/v1/match/hashes", json=body, headers=headers, timeout=10).json()[
                "verdict"
            ]
            for _ in range(n)  # a new connection each time: the kernel spreads them over the processes
        }

    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(_api_processes(server.pid)) < 2:
            time.sleep(0.3)
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            time.sleep(0.3)
        apis = _api_processes(server.pid)
        assert len(apis) == 2, (tmp_path / "serve.log").read_text()[-3000:]
        assert verdicts(first, 30) == {"known_fake"}
        assert verdicts(later, 5) == {"no_match"}
        with db.session() as s:  # another process (a worker, an import) adds an entry
            row = s.get(BankRow, bank.id)
            assert row is not None
            banks.add_entries(s, who, row, [BankEntry.create("pdq", later, "later fake")])
        time.sleep(1.5)  # each API process follows the database every half second
        assert verdicts(later, 30) == {"known_fake"}
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(30)
        log.close()
        db.dispose()
        drop_pg_database(db_url)
    for pid in apis:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
