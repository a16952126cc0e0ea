"""The match API at scale: N PDQ hashes in one PostgreSQL bank, looked up over HTTP on loopback.

    .venv/bin/python bench/bench_service_lookup.py --sizes 1000000,10000000

For each size: a fresh database ``cs_bench_<random>`` on 127.0.0.1:5432 (user postgres, dropped at the
end) gets N random PDQ hashes by COPY, a thousandth of which are then queried as planted near-duplicates
(0-31 flipped bits). The API runs under uvicorn in its own process (``create_app``, one process) and loads
the bank into its live index at start; ``wrk`` (Debian package ``wrk``) drives ``POST
/api/v1/match/hashes`` and ``/batch`` from a third process, one query in ten a planted near-duplicate.
The baseline, measured in this run on the same codes, is the live index's own PDQ structure
(``service.live_index.PdqCodes``) searched in-process on one thread: the ratio is the API's cost.

Also reported: the server's resident memory after loading, less before (and its peak), the index's
bytes, load and sort time, whether the planted hashes come back with the right entry ids (and random
ones do not), and upload-to-verdict latency: ``POST /api/v1/items`` of a generated poster, then polling
the job until done, with the service's embedded worker process (``runner.spawn_worker``); its first job
loads the analyzers and the worker's own live index.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import psycopg
from rich.console import Console
from rich.table import Table

from civicshield.hashing.index import PDQ_MATCH_DISTANCE
from civicshield.service.infra import live_index
from civicshield.service.infra.live_index import PdqCodes

PG = "postgresql://postgres@127.0.0.1:5432"
SQLA = "postgresql+psycopg://postgres@127.0.0.1:5432"
HERE = Path(__file__).resolve()


# ---- data ---------------------------------------------------------------------------------------------


@dataclass
class Planted:
    positions: np.ndarray  # rows of ``codes`` that near-duplicates were made from
    queries: np.ndarray  # (k, 32) uint8: those rows with 0-31 bits flipped
    fresh: np.ndarray  # (k, 32) uint8: random codes, expected to match nothing


def make_codes(n: int, seed: int) -> tuple[np.ndarray, Planted]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    k = max(10, min(1000, n // 1000))
    positions = rng.choice(n, size=k, replace=False)
    bits = np.unpackbits(codes[positions], axis=1)
    for row, flips in zip(bits, rng.integers(0, PDQ_MATCH_DISTANCE + 1, size=k), strict=True):
        row[rng.choice(256, size=flips, replace=False)] ^= 1
    fresh = rng.integers(0, 256, size=(k, 32), dtype=np.uint8)
    return codes, Planted(positions, np.packbits(bits, axis=1), fresh)


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"cs_bench_{secrets.token_hex(5)}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Seeded:
    key: str
    bank_id: int


def seed(db_name: str) -> Seeded:
    """Schema, one organization with a reviewer's API key, and an empty bank (the service's own code)."""
    from argon2 import PasswordHasher

    from civicshield.service.domain import banks, store
    from civicshield.service.domain.security import use_password_hasher
    from civicshield.service.infra.db.engine import Database, migrate

    use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    db = Database(f"{SQLA}/{db_name}")
    migrate(db.engine)
    with db.session() as s:
        org = store.create_org(s, "bench-org", "fact_checker")
        user = store.create_user(s, org.id, "bench@example.org", "Bench", "reviewer", "correct horse battery")
        who = store.principal_for(user)
        key = store.create_api_key(s, who, "bench", ["read", "submit", "match"]).token
        bank_id = banks.create_bank(s, who, "imported", "known_fake", "GREEN").id
    db.dispose()
    return Seeded(key, bank_id)


def copy_rows(db_name: str, bank_id: int, codes: np.ndarray, chunk: int = 200_000) -> tuple[float, int]:
    """COPY the codes into ``bank_entries`` as the service stores PDQ entries, with the table's secondary
    indexes and constraints dropped meanwhile and rebuilt after (as pg_restore does): the unique index on
    the random ``value_key`` would otherwise take most of the time. Returns (seconds, first id)."""
    start = time.perf_counter()
    now = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
    columns = "bank_id, signal_type, value, value_key, label, link, tlp, quality, created_at"
    with psycopg.connect(f"{PG}/{db_name}") as conn:
        rebuild = drop_secondary(conn)
        with conn.cursor() as cur, cur.copy(f"COPY bank_entries ({columns}) FROM STDIN") as copy:
            for lo in range(0, len(codes), chunk):
                text = codes[lo : lo + chunk].tobytes().hex()
                values = [text[i : i + 64] for i in range(0, len(text), 64)]
                copy.write(
                    "".join(
                        f"{bank_id}\tpdq\t{v}\t{hashlib.sha256(b'pdq:' + v.encode()).hexdigest()}"
                        f"\tbench {lo + i}\t\tGREEN\t100\t{now}\n"
                        for i, v in enumerate(values)
                    )
                )
        conn.execute("SET maintenance_work_mem = '1GB'")
        for statement in rebuild:
            conn.execute(statement)
        first, last = conn.execute("SELECT min(id), max(id) FROM bank_entries").fetchone() or (0, 0)
        if last - first + 1 != len(codes):
            raise RuntimeError("row ids are not contiguous; cannot map hits back to codes")
        conn.execute("UPDATE banks SET revision = revision + 1 WHERE id = %s", (bank_id,))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE bank_entries")
    return time.perf_counter() - start, int(first)


def drop_secondary(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """Drop the indexes and constraints of ``bank_entries`` but its primary key; return what rebuilds them."""
    table = "'bank_entries'::regclass"
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        f" WHERE conrelid = {table} AND contype <> 'p'"
    ).fetchall()
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'bank_entries'"
        f" AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = {table})"
    ).fetchall()
    for name, _ in constraints:
        conn.execute(f'ALTER TABLE bank_entries DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    return [str(d) for _, d in indexes] + [
        f'ALTER TABLE bank_entries ADD CONSTRAINT "{name}" {d}' for name, d in constraints
    ]


# ---- baseline: the same structure, in-process ----------------------------------------------------------


@dataclass
class Raw:
    build_s: float
    nbytes: int
    single_qps: float
    p50_ms: float
    p99_ms: float
    batch_qps: float


def raw_baseline(codes: np.ndarray, first_id: int, planted: Planted, n_queries: int = 2000) -> Raw:
    start = time.perf_counter()
    index = PdqCodes.build(codes, np.arange(first_id, first_id + len(codes), dtype=np.int64))
    build = time.perf_counter() - start
    queries = mixed_queries(planted, n_queries)
    times = []
    for q in queries:
        t = time.perf_counter()
        index.search(q[None, :], PDQ_MATCH_DISTANCE)
        times.append(time.perf_counter() - t)
    start = time.perf_counter()
    index.search(queries, PDQ_MATCH_DISTANCE)
    batch = len(queries) / (time.perf_counter() - start)
    p50, p99 = np.percentile(times, [50, 99]) * 1000
    return Raw(build, index.nbytes, len(times) / sum(times), float(p50), float(p99), batch)


def mixed_queries(planted: Planted, n: int) -> np.ndarray:
    """One planted near-duplicate in ten, the rest random codes."""
    out = np.empty((n, 32), dtype=np.uint8)
    for i in range(n):
        pool = planted.queries if i % 10 == 0 else planted.fresh
        out[i] = pool[(i // 10 if i % 10 == 0 else i) % len(pool)]
    return out


# ---- the server ---------------------------------------------------------------------------------------


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(resident, peak resident) MB of a process."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def serve(database_url: str, data_dir: str, port: int, stats_path: str) -> None:
    """Child process: build the app (loading the live index), report, then serve on loopback."""
    import uvicorn

    from civicshield.service.app import create_app
    from civicshield.service.settings import ServiceSettings

    before, _ = rss_mb()
    start = time.perf_counter()
    app = create_app(ServiceSettings(data_dir=Path(data_dir), database_url=database_url, secret_key="bench"))
    took = time.perf_counter() - start
    after, peak = rss_mb()
    stats = app.state.live.stats()
    report = {
        "pid": os.getpid(),
        "create_app_s": took,
        "load_s": stats.last_sync_s,
        "rss_delta_mb": after - before,
        "peak_mb": peak,
        "pdq_codes": stats.pdq_codes,
        "pdq_bytes": stats.pdq_bytes,
    }
    Path(stats_path).write_text(json.dumps(report))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextmanager
def running_server(db_name: str, data_dir: Path, port: int) -> Iterator[dict[str, float]]:
    stats_path = data_dir / "server-stats.json"
    args = [
        sys.executable,
        str(HERE),
        "serve",
        f"{SQLA}/{db_name}",
        str(data_dir),
        str(port),
        str(stats_path),
    ]
    proc = subprocess.Popen(args)
    try:
        while not stats_path.exists():
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            time.sleep(0.2)
        wait_healthy(f"http://127.0.0.1:{port}")
        yield json.loads(stats_path.read_text())
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """(proportional set size summed over ``pids``, private memory summed) in MB. Pages several processes
    map (a shared index file) count once in the PSS sum, split between them."""
    pss = private = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, value = line.partition(":")
            if name == "Pss":
                pss += int(value.split()[0])
            elif name in ("Private_Clean", "Private_Dirty"):
                private += int(value.split()[0])
    return pss / 1024, private / 1024


def process_tree(pid: int) -> list[int]:
    """``pid`` and the API processes uvicorn started under it (not multiprocessing's resource tracker)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    kids = [int(x) for x in out.split()]
    return [pid, *(k for k in kids if b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes())]


@dataclass
class Cli:
    pids: list[int]
    ready_s: float


@contextmanager
def cli_server(db_name: str, data_dir: Path, port: int, processes: int) -> Iterator[Cli]:
    """``civicshield serve --no-worker --no-access-log --processes N`` as an operator serving match traffic
    runs it (the in-process server above logs no requests either), on the bench database."""
    env = {
        **os.environ,
        "CIVICSHIELD_DATABASE_URL": f"{SQLA}/{db_name}",
        "CIVICSHIELD_DATA_DIR": str(data_dir),
        "CIVICSHIELD_SECRET_KEY": "bench",
        "CIVICSHIELD_LOG_FORMAT": "json",
    }
    cmd = [
        sys.executable,
        "-m",
        "civicshield",
        "serve",
        "--no-worker",
        "--no-access-log",
        "--port",
        str(port),
    ]
    start = time.perf_counter()
    with (data_dir / f"serve-{processes}.log").open("wb") as log:
        proc = subprocess.Popen([*cmd, "--processes", str(processes)], env=env, stdout=log, stderr=log)
        try:
            base = f"http://127.0.0.1:{port}"
            while len(process_tree(proc.pid)) < processes + (processes > 1):
                time.sleep(0.1)
            wait_healthy(base)
            for _ in range(20 * processes):  # every process has loaded its live index
                httpx.get(f"{base}/readyz", timeout=60)
            yield Cli(process_tree(proc.pid), time.perf_counter() - start)
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def add_rows_later(db_name: str, bank_id: int, n: int, after_s: float) -> threading.Thread:
    """In ``after_s`` seconds, insert ``n`` new PDQ entries (as an import would) and bump the revision:
    more than the live index's delta holds, so one process re-sorts the bank and saves it for the others."""

    def run() -> None:
        time.sleep(after_s)
        rng = np.random.default_rng(secrets.randbits(64))  # new codes on every call
        values = [c.tobytes().hex() for c in rng.integers(0, 256, size=(n, 32), dtype=np.uint8)]
        now = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
        columns = "bank_id, signal_type, value, value_key, label, link, tlp, quality, created_at"
        with psycopg.connect(f"{PG}/{db_name}") as conn:
            with conn.cursor() as cur, cur.copy(f"COPY bank_entries ({columns}) FROM STDIN") as copy:
                copy.write(
                    "".join(
                        f"{bank_id}\tpdq\t{v}\t{hashlib.sha256(b'pdq:' + v.encode()).hexdigest()}"
                        f"\tlater {i}\t\tGREEN\t100\t{now}\n"
                        for i, v in enumerate(values)
                    )
                )
            conn.execute("UPDATE banks SET revision = revision + 1 WHERE id = %s", (bank_id,))
            conn.commit()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_healthy(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not come up")


# ---- load -----------------------------------------------------------------------------------------------

WRK_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
local bodies = {%(bodies)s}
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"p50":%%d,"p99":%%d,"max":%%d,"errors":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


@dataclass
class Load:
    lookups_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    max_ms: float = 0.0


def body(code: np.ndarray) -> dict[str, object]:
    return {"hashes": [{"signal_type": "pdq", "hash": code.tobytes().hex(), "quality": 100}]}


def wrk(base: str, path: str, key: str, bodies: list[str], per_body: int, args: Args) -> Load:
    lua = WRK_LUA % {"key": key, "bodies": ",".join(f"[=[{b}]=]" for b in bodies)}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua)
    cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "30s", "-s", fh.name]
    out = subprocess.run([*cmd, base + path], capture_output=True, text=True, check=True).stdout
    os.unlink(fh.name)
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    r = json.loads(line.split(" ", 1)[1])
    rate = r["requests"] / (r["duration_us"] / 1e6)
    return Load(rate * per_body, r["p50"] / 1000, r["p99"] / 1000, r["errors"], r["max"] / 1000)


def check_answers(base: str, key: str, planted: Planted, first_id: int, n: int = 200) -> tuple[int, int, int]:
    """(planted found with the right entry id, planted asked, random codes that matched anything)."""
    found = false = 0
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
        for pos, q in zip(planted.positions[:n], planted.queries[:n], strict=True):
            r = c.post("/api/v1/match/hashes", json=body(q)).json()
            found += any(m["entry_id"] == first_id + int(pos) for m in r["matches"])
        for q in planted.fresh[:n]:
            false += c.post("/api/v1/match/hashes", json=body(q)).json()["verdict"] != "no_match"
    return found, min(n, len(planted.positions)), false


def upload_to_verdict(base: str, key: str, uploads: int, timeout_s: float = 300) -> list[float]:
    """Seconds from ``POST /api/v1/items`` to a finished job, for distinct generated posters (``inf``: the
    job did not finish within ``timeout_s``)."""
    from civicshield.demo import synth

    out: list[float] = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        for i in range(uploads):
            buf = io.BytesIO()
            synth.poster(f"BENCH {i}", size=(700, 500), seed=100 + i).save(buf, format="JPEG", quality=90)
            start = time.perf_counter()
            r = c.post("/api/v1/items", files={"file": (f"b{i}.jpg", buf.getvalue())})
            job = r.json()["job"]["id"]
            while c.get(f"/api/v1/jobs/{job}").json()["state"] not in {"done", "failed"}:
                if time.perf_counter() - start > timeout_s:
                    return [*out, math.inf]
                time.sleep(0.05)
            out.append(time.perf_counter() - start)
    return out


def worker() -> None:
    """Child process: ``civicshield worker`` (``runner.run_worker``), except that each process celery forks
    gets fresh database connections. ``run_worker`` opens the database before celery forks its pool, so
    without this the job process shares pooled connections with the parent's reaper thread, and a job that
    reads for seconds (the live index's first load) can hang on a connection both processes talk over."""
    from civicshield.service import runner
    from civicshield.service.infra.db.engine import Database
    from civicshield.service.settings import ServiceSettings

    class ForkSafeDatabase(Database):
        def __init__(self, url: str) -> None:
            super().__init__(url)
            os.register_at_fork(after_in_child=lambda: self.engine.dispose(close=False))

    runner.Database = ForkSafeDatabase  # type: ignore[attr-defined]
    runner.run_worker(ServiceSettings.from_env())


@contextmanager
def embedded_worker(db_name: str, data_dir: Path) -> Iterator[None]:
    """The worker ``civicshield serve`` spawns, with ``runner.spawn_worker``'s environment."""
    from civicshield.service.settings import ServiceSettings

    settings = ServiceSettings(data_dir=data_dir, database_url=f"{SQLA}/{db_name}", secret_key="bench")
    env = {
        **os.environ,
        "CIVICSHIELD_DATA_DIR": str(data_dir.resolve()),
        "CIVICSHIELD_DATABASE_URL": settings.db_url,
        "CIVICSHIELD_BROKER_URL": settings.broker,
        "CIVICSHIELD_SECRET_KEY": settings.secret_key,
    }
    with (data_dir / "worker.log").open("wb") as log:
        child = subprocess.Popen([sys.executable, str(HERE), "worker"], env=env, stdout=log, stderr=log)
        try:
            yield
        finally:
            child.kill()  # a warm shutdown would wait for a job stuck past the timeout
            child.wait(timeout=30)


# ---- one size -------------------------------------------------------------------------------------------


@dataclass
class Several:
    """The API as ``serve --processes N``."""

    processes: int
    ready_s: float  # start to every process answering, with the bank's index already saved by a first run
    pss_mb: float
    private_mb: float
    single: Load
    batch: Load
    reload: Load  # single look-ups while DELTA_MAX + 10,000 entries arrive and one process re-sorts


@dataclass
class Result:
    n: int
    copy_s: float
    server: dict[str, float]
    raw: Raw
    alone: Load  # one connection: latency without queueing
    single: Load
    batch: Load
    answers: tuple[int, int, int]
    verdict_s: list[float]
    several: list[Several]


def run_size(n: int, args: Args, console: Console) -> Result:
    codes, planted = make_codes(n, seed=n)
    with fresh_database() as db_name, tempfile.TemporaryDirectory(prefix="cs-bench-") as tmp:
        seeded = seed(db_name)
        copy_s, first_id = copy_rows(db_name, seeded.bank_id, codes)
        console.log(f"{n:,}: COPY {copy_s:.1f} s")
        raw = raw_baseline(codes, first_id, planted)
        console.log(f"{n:,}: raw baseline {raw.single_qps:,.0f} look-ups/s")
        port = 18000 + secrets.randbelow(1000)
        base = f"http://127.0.0.1:{port}"
        with running_server(db_name, Path(tmp), port) as server:
            console.log(f"{n:,}: server up, live index loaded in {server['load_s']:.1f} s")
            queries = mixed_queries(planted, 2000)
            singles = [json.dumps(body(q)) for q in queries]
            batches = [
                json.dumps({"items": [body(q) for q in queries[i : i + args.batch]]})
                for i in range(0, len(queries), args.batch)
            ]
            wrk(base, "/api/v1/match/hashes", seeded.key, singles[:50], 1, args.with_(duration=3))  # warm-up
            alone = wrk(base, "/api/v1/match/hashes", seeded.key, singles, 1, args.with_(connections=1))
            single = wrk(base, "/api/v1/match/hashes", seeded.key, singles, 1, args)
            batch = wrk(base, "/api/v1/match/hashes/batch", seeded.key, batches, args.batch, args)
            answers = check_answers(base, seeded.key, planted, first_id)
            server["pss_mb"], server["private_mb"] = memory_mb([int(server["pid"])])
            with embedded_worker(db_name, Path(tmp)):
                verdict = upload_to_verdict(base, seeded.key, args.uploads)
        several = []
        for count in (int(x) for x in args.processes.split(",") if x):
            port = 18000 + secrets.randbelow(1000)
            base = f"http://127.0.0.1:{port}"
            with cli_server(db_name, Path(tmp), port, count) as cli:
                console.log(f"{n:,}: serve --processes {count} ready in {cli.ready_s:.1f} s")
                wrk(base, "/api/v1/match/hashes", seeded.key, singles[:50], 1, args.with_(duration=3))
                pss, private = memory_mb(cli.pids)
                s1 = wrk(base, "/api/v1/match/hashes", seeded.key, singles, 1, args)
                b1 = wrk(base, "/api/v1/match/hashes/batch", seeded.key, batches, args.batch, args)
                adding = add_rows_later(db_name, seeded.bank_id, live_index.DELTA_MAX + 10_000, 2.0)
                reload = wrk(base, "/api/v1/match/hashes", seeded.key, singles, 1, args)
                adding.join()
            several.append(Several(count, cli.ready_s, pss, private, s1, b1, reload))
    return Result(n, copy_s, server, raw, alone, single, batch, answers, verdict, several)


class Args(argparse.Namespace):
    sizes: str
    processes: str
    duration: int
    connections: int
    batch: int
    uploads: int

    def with_(self, **changes: int) -> Args:
        return Args(**{**vars(self), **changes})


# ---- report ---------------------------------------------------------------------------------------------


def tables(results: list[Result], args: Args) -> list[Table]:
    lookups = Table(
        title=f"Match look-ups, PDQ radius {PDQ_MATCH_DISTANCE}, 1 in 10 a planted near-duplicate "
        f"(wrk: 1 thread, {args.duration} s a run; c = connections; batch = {args.batch} hashes a request)"
    )
    for col in ("hashes", "path", "look-ups/s", "vs raw", "p50 ms", "p99 ms", "errors"):
        lookups.add_column(col, justify="left" if col == "path" else "right")
    for r in results:
        lookups.add_row(
            f"{r.n:,}", "raw PdqCodes.search, 1 query/call (baseline)", f"{r.raw.single_qps:,.0f}", "1.00x",
            f"{r.raw.p50_ms:.2f}", f"{r.raw.p99_ms:.2f}", "-",
        )  # fmt: skip
        lookups.add_row(f"{r.n:,}", "raw PdqCodes.search, 2,000 queries/call", f"{r.raw.batch_qps:,.0f}",
                        f"{r.raw.batch_qps / r.raw.single_qps:.2f}x", "-", "-", "-")  # fmt: skip
        for label, load in (
            ("POST /match/hashes, c=1", r.alone),
            (f"POST /match/hashes, c={args.connections}", r.single),
            (f"POST /match/hashes/batch, c={args.connections}", r.batch),
        ):
            lookups.add_row(
                f"{r.n:,}", label, f"{load.lookups_s:,.0f}", f"{load.lookups_s / r.raw.single_qps:.2f}x",
                f"{load.p50_ms:.1f}", f"{load.p99_ms:.1f}", str(load.errors),
            )  # fmt: skip
    index = Table(title="Index in the API process, and upload-to-verdict")
    cols = ("hashes", "COPY s", "load+sort s", "create_app s", "RSS delta MB", "peak RSS MB", "index MB",
            "planted found", "random matched", "upload→verdict s: first, median of rest")  # fmt: skip
    for col in cols:
        index.add_column(col, justify="right")
    for r in results:
        found, asked, false = r.answers
        first, rest = r.verdict_s[0], r.verdict_s[1:]
        index.add_row(
            f"{r.n:,}", f"{r.copy_s:.0f}", f"{r.server['load_s']:.1f}", f"{r.server['create_app_s']:.1f}",
            f"{r.server['rss_delta_mb']:,.0f}", f"{r.server['peak_mb']:,.0f}",
            f"{r.server['pdq_bytes'] / 2**20:,.0f} (raw {r.raw.nbytes / 2**20:,.0f})",
            f"{found}/{asked}", f"{false}/{asked}",
            f"{first:.2f}, {statistics.median(rest):.2f}" if rest else f"{first:.2f}",
        )  # fmt: skip
    several = Table(
        title="`civicshield serve --no-worker --no-access-log --processes N` (the bank's sorted index mapped "
        "from the data folder; "
        f"wrk c={args.connections}; memory: all API processes together; reload: DELTA_MAX + 10,000 entries "
        "added 2 s into the run, one process re-sorts and saves, the others map the new files)"
    )
    cols = ("hashes", "N", "ready s", "PSS MB", "private MB", "single/s", "vs raw", "p99 ms",
            "batch hashes/s", "vs raw", "p99 ms", "during reload /s", "p99 ms", "max ms",
            "errors")  # fmt: skip
    for col in cols:
        several.add_column(col, justify="right")
    for r in results:
        several.add_row(
            f"{r.n:,}", "1*", "-", f"{r.server['pss_mb']:,.0f}", f"{r.server['private_mb']:,.0f}",
            f"{r.single.lookups_s:,.0f}", f"{r.single.lookups_s / r.raw.single_qps:.2f}x",
            f"{r.single.p99_ms:.1f}", f"{r.batch.lookups_s:,.0f}",
            f"{r.batch.lookups_s / r.raw.single_qps:.2f}x", f"{r.batch.p99_ms:.1f}", "-", "-", "-", "-",
        )  # fmt: skip
        for m in r.several:
            several.add_row(
                f"{r.n:,}", str(m.processes), f"{m.ready_s:.1f}", f"{m.pss_mb:,.0f}", f"{m.private_mb:,.0f}",
                f"{m.single.lookups_s:,.0f}", f"{m.single.lookups_s / r.raw.single_qps:.2f}x",
                f"{m.single.p99_ms:.1f}", f"{m.batch.lookups_s:,.0f}",
                f"{m.batch.lookups_s / r.raw.single_qps:.2f}x", f"{m.batch.p99_ms:.1f}",
                f"{m.reload.lookups_s:,.0f}", f"{m.reload.p99_ms:.1f}", f"{m.reload.max_ms:,.0f}",
                str(m.single.errors + m.batch.errors + m.reload.errors),
            )  # fmt: skip
    return [lookups, index, several]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker()
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-ups: servers, database
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000000", help="comma-separated bank sizes")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100, help="hashes per /batch request")
    parser.add_argument("--uploads", type=int, default=4, help="uploads timed (the first one cold)")
    parser.add_argument(
        "--processes", default="1,2", help="also run `serve --processes N` for each N (empty: skip)"
    )
    args = parser.parse_args(namespace=Args())
    console = Console(width=170)
    results = [run_size(int(n), args, console) for n in args.sizes.split(",")]
    for table in tables(results, args):
        console.print(table)
    load = os.getloadavg()
    console.print(
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end"
    )


if __name__ == "__main__":
    main()
