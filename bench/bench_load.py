"""Mixed traffic against a running service: errors, health under load, nothing lost (issue 16, item 3).

    .venv/bin/python bench/bench_load.py --backend sqlite              # embedded: SQLite + SQLite queue
    .venv/bin/python bench/bench_load.py --backend postgres            # PostgreSQL + Redis
    .venv/bin/python bench/bench_load.py --users 20 --duration 60

``civicshield serve`` (API + embedded worker) starts in its own process on a fresh data directory (and a
fresh PostgreSQL database and Redis database number for ``postgres``), with one organization and an
analyst's API key seeded. Locust (``bench/locustfile.py``) drives ``--users`` clients for ``--duration``
seconds: about a fifth of the requests upload a poster, one in ten has the match API hash a 3,000 x 3,000
PNG, the rest read and look hashes up. Meanwhile this process polls ``/healthz`` every half second (2 s
timeout). Afterwards it waits for the queue to drain and checks that every accepted upload is an item whose
job finished.

The baseline, measured in the same run before the load starts, is the idle service: the ratio column is
each endpoint's median latency under load divided by its idle median.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, select, text

from civicshield.demo import synth

HERE = Path(__file__).resolve().parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CORE = "c2pa,metadata,watermark,phash,known_fakes,official_media"
LOGIN = "load@load.test:correct horse battery"
out = Console(width=150)


@dataclass
class Health:
    latencies: list[float] = field(default_factory=list)
    failures: int = 0


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _media(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(12):
        synth.poster(f"LOAD {i}", size=(800, 600), seed=i).save(folder / f"poster-{i}.jpg", quality=90)
    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 256, (3000, 3000, 3), dtype=np.uint8)).save(folder / "large.png")


def _database(backend: str, data_dir: Path) -> tuple[str, str, str | None]:
    """(database URL, broker URL, PostgreSQL database to drop afterwards)."""
    if backend == "sqlite":
        return f"sqlite:///{data_dir / 'civicshield.db'}", "", None
    name = f"cs_load_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return (
        PG_ADMIN.rsplit("/", 1)[0] + f"/{name}",
        f"redis://127.0.0.1:6379/{secrets.randbelow(10) + 5}",
        name,
    )


def _seed(db_url: str) -> str:
    from civicshield.service.domain import store
    from civicshield.service.infra.db.engine import Database, migrate

    db = Database(db_url)
    migrate(db.engine)
    with db.session() as s:
        org = store.create_org(s, "load-org", "fact_checker")
        email, password = LOGIN.split(":", 1)
        user = store.create_user(s, org.id, email, "Load", "reviewer", password)
        key = store.create_api_key(
            s, store.principal_for(user), "load", ["read", "submit", "match", "review"]
        )
    db.dispose()
    return key.token


def _poll_health(url: str, stop: threading.Event, health: Health) -> None:
    with httpx.Client(timeout=2.0) as client:
        while not stop.wait(0.5):
            start = time.perf_counter()
            try:
                ok = client.get(url).status_code == 200
            except httpx.HTTPError:
                ok = False
            health.latencies.append(time.perf_counter() - start)
            health.failures += not ok


def _idle_medians(base: str, key: str, media: Path, rounds: int = 5) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {key}"}
    timings: dict[str, list[float]] = {}
    poster = (media / "poster-0.jpg").read_bytes()
    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        calls = {
            "cases": lambda: c.get("/api/v1/cases"),
            "banks": lambda: c.get("/api/v1/banks"),
            "match/hashes": lambda: c.post(
                "/api/v1/match/hashes",
                json={"hashes": [{"signal_type": "pdq", "hash": "f" * 64, "quality": 100}]},
            ),
            "upload": lambda: c.post("/api/v1/items", files={"file": ("p.jpg", poster, "image/jpeg")}),
            "match/file": lambda: c.post(
                "/api/v1/match/file",
                files={"file": ("large.png", (media / "large.png").read_bytes(), "image/png")},
            ),
        }
        for name, call in calls.items():
            for _ in range(rounds):
                start = time.perf_counter()
                call().raise_for_status()
                timings.setdefault(name, []).append(time.perf_counter() - start)
    return {name: statistics.median(v) for name, v in timings.items()}


def _accounting(db_url: str, wait_s: float) -> tuple[int, int, int]:
    """(items, jobs done, jobs not done) once the queue has drained or ``wait_s`` passed."""
    from civicshield.service.domain.tables import Item, Job

    engine = create_engine(db_url)
    deadline = time.monotonic() + wait_s
    try:
        while True:
            with engine.connect() as conn:
                items = int(conn.scalar(select(func.count()).select_from(Item)) or 0)
                done = int(conn.scalar(select(func.count()).select_from(Job).where(Job.state == "done")) or 0)
                pending = int(
                    conn.scalar(
                        select(func.count()).select_from(Job).where(Job.state.in_(("queued", "running")))
                    )
                    or 0
                )
            if pending == 0 or time.monotonic() > deadline:
                return items, done, pending
            time.sleep(2)
    finally:
        engine.dispose()


def run(backend: str, users: int, duration: int) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"cs-load-{backend}-"))
    data_dir, media = work / "data", work / "media"
    data_dir.mkdir()
    _media(media)
    db_url, broker, pg_name = _database(backend, data_dir)
    key = _seed(db_url)
    port = _port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CIVICSHIELD_DATA_DIR": str(data_dir),
        "CIVICSHIELD_DATABASE_URL": db_url,
        "CIVICSHIELD_BROKER_URL": broker,
        "CIVICSHIELD_ANALYZERS": CORE,
        "CIVICSHIELD_SECRET_KEY": "load-test",
    }
    log = (work / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "civicshield", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        idle = _idle_medians(base, key, media)
        health, stop = Health(), threading.Event()
        poller = threading.Thread(target=_poll_health, args=(f"{base}/healthz", stop, health), daemon=True)
        poller.start()
        prefix = work / "locust"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(HERE / "locustfile.py"),
                "--headless",
                "-u",
                str(users),
                "-r",
                str(users),
                "-t",
                f"{duration}s",
                "--host",
                base,
                "--csv",
                str(prefix),
                "--only-summary",
                "--stop-timeout",
                "30",
            ],
            env={**env, "CS_LOAD_KEY": key, "CS_LOAD_MEDIA": str(media), "CS_LOAD_LOGIN": LOGIN},
            check=False,
            capture_output=True,
        )
        stop.set()
        poller.join(5)
        items, done, pending = _accounting(db_url, wait_s=300)
        _report(backend, users, duration, prefix, idle, health, items, done, pending)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
        if pg_name:
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            admin.dispose()


def _report(
    backend: str,
    users: int,
    duration: int,
    prefix: Path,
    idle: dict[str, float],
    health: Health,
    items: int,
    done: int,
    pending: int,
) -> None:
    rows = list(csv.DictReader(io.StringIO(Path(f"{prefix}_stats.csv").read_text())))
    table = Table(title=f"Mixed load on {backend}: {users} clients, {duration} s")
    for col in (
        "endpoint",
        "requests",
        "failures",
        "median ms",
        "p95 ms",
        "p99 ms",
        "idle median ms",
        "ratio",
    ):
        table.add_column(col, justify="left" if col == "endpoint" else "right")
    accepted_uploads = 0
    for row in rows:
        name = row["Name"]
        if name == "Aggregated":
            continue
        median = float(row["50%"] or 0)
        base = idle.get(name)
        if name == "upload":
            accepted_uploads = int(row["Request Count"]) - int(row["Failure Count"])
        table.add_row(
            name,
            row["Request Count"],
            row["Failure Count"],
            f"{median:.0f}",
            row["95%"],
            row["99%"],
            f"{base * 1000:.0f}" if base else "–",
            f"{median / (base * 1000):.1f}x" if base else "–",
        )
    total = next(r for r in rows if r["Name"] == "Aggregated")
    out.print(table)
    lat = sorted(health.latencies)
    health_median = statistics.median(lat) * 1000
    out.print(
        f"requests {total['Request Count']}, failures {total['Failure Count']}; "
        f"/healthz polled {len(lat)} times: {health.failures} failed, median {health_median:.0f} ms, "
        f"max {lat[-1] * 1000:.0f} ms; uploads accepted {accepted_uploads}, items stored "
        f"{items - 5} (and 5 from the idle baseline), jobs done {done}, not done {pending}"
    )
    failures = Path(f"{prefix}_failures.csv").read_text().strip().splitlines()[1:]
    for line in failures[:10]:
        out.print(f"  failure: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=int, default=60)
    args = parser.parse_args()
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        run(backend, args.users, args.duration)


if __name__ == "__main__":
    main()
