"""What starting costs: the command line on many files, and the service until it answers "ready".

    .venv/bin/python bench/bench_startup.py [--files 10]

Rows, each a real process as a user starts it:

* ``civicshield analyze`` on ``--files`` generated 1 MP photos: once per file (a process each, paying
  model loading every time: the baseline) and once for all of them (one process: models load once).
  Seconds per file, and the ratio to the baseline.
* ``civicshield serve`` on a fresh data folder (SQLite): seconds from start until ``/readyz`` answers
  "ready", and until the embedded worker has loaded every analyzer (the first upload's verdict).
* ``civicshield serve --demo`` on a fresh data folder (it builds and seeds the demo set first) and again
  on the same folder (the set is there).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from civicshield.demo import synth

CLI = [sys.executable, "-m", "civicshield"]


def analyze_each(files: list[Path], data_dir: Path) -> float:
    start = time.perf_counter()
    for f in files:
        subprocess.run(
            [*CLI, "analyze", "--data-dir", str(data_dir), str(f)], check=False, capture_output=True
        )
    return (time.perf_counter() - start) / len(files)


def analyze_together(files: list[Path], data_dir: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [*CLI, "analyze", "--data-dir", str(data_dir), *map(str, files)], check=False, capture_output=True
    )
    return (time.perf_counter() - start) / len(files)


def until_ready(args: list[str], data_dir: Path, upload: Path | None) -> tuple[float, float]:
    """(seconds to ``/readyz`` "ready", seconds to the first upload's verdict or nan)."""
    port = 19000 + secrets.randbelow(900)
    env = {**os.environ, "CIVICSHIELD_DATA_DIR": str(data_dir), "CIVICSHIELD_LOG_FORMAT": "json"}
    env.pop("CIVICSHIELD_BASE_URL", None)
    base = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    with (data_dir.parent / f"{data_dir.name}.log").open("ab") as log:
        proc = subprocess.Popen([*CLI, "serve", "--port", str(port), *args], env=env, stdout=log, stderr=log)
        try:
            ready = _wait(lambda: httpx.get(f"{base}/readyz", timeout=2).json().get("status") == "ready")
            verdict = float("nan")
            if upload is not None:
                verdict = _first_verdict(base, data_dir, upload) - start
            return ready - start, verdict
        finally:
            proc.terminate()
            proc.wait(60)


def _wait(check, timeout: float = 300) -> float:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return time.perf_counter()
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.05)
    raise RuntimeError("the service did not become ready")


def _first_verdict(base: str, data_dir: Path, upload: Path) -> float:
    """An analyst's API key made with the service's own code, one upload, its job polled until done."""
    from civicshield.service.domain import store
    from civicshield.service.infra.db.engine import Database

    db = Database(f"sqlite:///{(data_dir / 'civicshield.db').resolve()}")
    with db.session() as s:
        org = store.create_org(s, "bench-org", "fact_checker")
        user = store.create_user(s, org.id, "b@bench.test", "B", "analyst", "correct horse battery")
        key = store.create_api_key(s, store.principal_for(user), "bench", ["read", "submit"]).token
    db.dispose()
    headers = {"Authorization": f"Bearer {key}"}
    r = httpx.post(
        f"{base}/api/v1/items", files={"file": (upload.name, upload.read_bytes())}, headers=headers
    )
    job = r.json()["job"]["id"]
    return _wait(lambda: httpx.get(f"{base}/api/v1/jobs/{job}", headers=headers).json()["state"] == "done")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=10)
    args = parser.parse_args()
    console = Console(width=150)
    with tempfile.TemporaryDirectory(prefix="cs-start-") as tmp:
        root = Path(tmp)
        files = [
            synth.save_image(synth.poster(f"START {i}", size=(1200, 850), seed=i), root / f"p{i}.jpg")
            for i in range(args.files)
        ]
        each = analyze_each(files, root / "cli-each")
        together = analyze_together(files, root / "cli-together")
        console.log(f"analyze: {each:.2f} s a file one process each, {together:.2f} s a file in one process")
        serve_ready, serve_verdict = until_ready([], root / "serve", files[0])
        demo_first, _ = until_ready(["--demo"], root / "demo", None)
        demo_again, _ = until_ready(["--demo"], root / "demo", None)
    table = Table(title=f"Start-up costs ({os.cpu_count()} CPUs; every row a real process)")
    for col in ("what", "seconds", "vs baseline"):
        table.add_column(col, justify="left" if col == "what" else "right")
    table.add_row(
        f"civicshield analyze, one process per file ({args.files} files; baseline)", f"{each:.2f}", "1.00x"
    )
    table.add_row(f"civicshield analyze, all {args.files} files in one process, per file", f"{together:.2f}",
                  f"{together / each:.2f}x")  # fmt: skip
    table.add_row("civicshield serve, fresh data folder: /readyz ready", f"{serve_ready:.1f}", "-")
    table.add_row(
        "  ... first upload's verdict (the worker loads every analyzer)", f"{serve_verdict:.1f}", "-"
    )
    table.add_row("civicshield serve --demo, fresh data folder: ready", f"{demo_first:.1f}", "-")
    table.add_row("civicshield serve --demo, again on the same folder: ready", f"{demo_again:.1f}", "-")
    console.print(table)


if __name__ == "__main__":
    main()
