"""Where the match API's time goes: py-spy samples the API process while wrk drives look-ups.

    .venv/bin/python bench/profile_service.py                       # 1M PDQ hashes, single look-ups
    .venv/bin/python bench/profile_service.py --size 10000000 --path batch --seconds 20

The set-up is ``bench_service_lookup.py``'s (a fresh PostgreSQL database, one bank of random PDQ codes, an
analyst's key, the API under uvicorn in its own process). ``py-spy record --format raw`` samples that
process (every thread, idle frames left out) for ``--seconds`` while ``wrk`` posts single or batched
look-ups with 8 connections. Printed: the functions with the largest share of samples anywhere on the
stack (inclusive) and at the top of it (self), our modules' names shortened, and the raw stacks' file
(``--keep``) for a flame graph (``flamegraph.pl``, speedscope).
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_service_lookup as bsl  # the benchmark's set-up (bench/ is not a package)

FRAME = re.compile(r"^(?P<func>[^ ]+) \((?P<file>[^:)]+)(?::\d+)?\)$")


def short(frame: str) -> str:
    """``func (path/to/civicshield/x/y.py:12)`` -> ``civicshield.x.y:func``; libraries by package name."""
    m = FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m["file"]
    for marker in ("/site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    module = path.removesuffix(".py").replace("/", ".").removeprefix("11.")
    return f"{module}:{m['func']}"


def summarize(raw: str, top: int) -> tuple[int, list[tuple[str, int, int]]]:
    """(samples, [(function, inclusive, self)]) from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [short(f) for f in stack.split(";")]
        total += count
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    names = sorted(inclusive, key=lambda n: -inclusive[n])[:top]
    return total, [(n, inclusive[n], own[n]) for n in names]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--path", choices=("single", "batch"), default="single")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="write py-spy's raw stacks here")
    args = parser.parse_args()
    console = Console(width=150)
    codes, planted = bsl.make_codes(args.size, seed=args.size)
    with bsl.fresh_database() as db_name, tempfile.TemporaryDirectory(prefix="cs-prof-") as tmp:
        seeded = bsl.seed(db_name)
        bsl.copy_rows(db_name, seeded.bank_id, codes)
        port = 18000 + secrets.randbelow(1000)
        base = f"http://127.0.0.1:{port}"
        with bsl.running_server(db_name, Path(tmp), port) as server:
            queries = bsl.mixed_queries(planted, 2000)
            if args.path == "single":
                path, per, bodies = "/api/v1/match/hashes", 1, [json.dumps(bsl.body(q)) for q in queries]
            else:
                path, per = "/api/v1/match/hashes/batch", 100
                bodies = [
                    json.dumps({"items": [bsl.body(q) for q in queries[i : i + 100]]})
                    for i in range(0, len(queries), 100)
                ]
            load_args = bsl.Args(duration=args.seconds + 4, connections=8, batch=100, sizes="", uploads=0)
            result: list[bsl.Load] = []
            driver = threading.Thread(
                target=lambda: result.append(bsl.wrk(base, path, seeded.key, bodies, per, load_args))
            )
            driver.start()
            out = Path(tmp) / "stacks.txt"
            spy = Path(sys.executable).with_name("py-spy")
            cmd = [str(spy), "record", "--pid", str(server["pid"]), "--duration", str(args.seconds)]
            cmd += ["--rate", "200", "--format", "raw", "--output", str(out), "--nonblocking"]
            subprocess.run(cmd, check=True, capture_output=True)
            driver.join()
            raw = out.read_text()
            if args.keep:
                args.keep.write_text(raw)
    total, rows = summarize(raw, args.top)
    load = result[0]
    table = Table(
        title=f"py-spy, API process, {args.path} look-ups over {args.size:,} PDQ hashes: {total:,} samples; "
        f"wrk meanwhile {load.lookups_s:,.0f} look-ups/s, p99 {load.p99_ms:.1f} ms"
    )
    for col in ("function", "inclusive %", "self %"):
        table.add_column(col, justify="left" if col == "function" else "right")
    for name, inc, own in rows:
        table.add_row(name, f"{100 * inc / total:.1f}", f"{100 * own / total:.1f}")
    console.print(table)


if __name__ == "__main__":
    main()
