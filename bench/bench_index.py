"""PDQ look-ups at scale: flat scan (baseline) vs multi-index hashing, in the same process.

    .venv/bin/python bench/bench_index.py [--size 1000000] [--queries 2000] [--threads 1]

The index holds ``--size`` random 256-bit codes. Queries: half are planted near-duplicates of stored codes
(0-31 flipped bits, the PDQ match radius), half fresh random codes (no match expected). Reported per index:
build time, resident memory the build adds (in a forked child), look-ups per second at radius 31 (batched,
and one query per call as an analyzer makes them), and whether the results equal the flat scan's (they
must: multi-index hashing with ``nflip = 31 // nhash`` is exact). One OpenMP thread by default: per-core
numbers are stable, and with several threads a single look-up on a busy machine spends most of its time in
thread hand-offs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

import faiss
import numpy as np
from rich.console import Console
from rich.table import Table

from civicshield.hashing.index import FlatPdqIndex, MultiHashPdqIndex, PdqIndex


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _build_in_child(
    make: Callable[[], PdqIndex], stored: np.ndarray, ids: np.ndarray, conn: Connection
) -> None:
    before = rss_mb()
    index = make()
    index.add(stored, ids)
    conn.send(rss_mb() - before)
    conn.close()


def memory_mb(make: Callable[[], PdqIndex], stored: np.ndarray, ids: np.ndarray) -> float:
    """Resident memory a build adds, measured in a forked child so no freed memory is reused."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_build_in_child, args=(make, stored, ids, child))
    proc.start()
    used = float(parent.recv())
    proc.join()
    return used


def queries(stored: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    picks = rng.integers(0, stored.shape[0], size=n // 2)
    bits = np.unpackbits(stored[picks], axis=1)
    for row, flips in zip(bits, rng.integers(0, 32, size=n // 2), strict=True):
        row[rng.choice(256, size=flips, replace=False)] ^= 1
    near = np.packbits(bits, axis=1)
    fresh = rng.integers(0, 256, size=(n - n // 2, 32), dtype=np.uint8)
    return np.concatenate([near, fresh])


def run(
    make: Callable[[], PdqIndex], stored: np.ndarray, ids: np.ndarray, qs: np.ndarray
) -> tuple[float, float, float, float, list[list[tuple[int, int]]]]:
    start = time.perf_counter()
    index = make()
    index.add(stored, ids)
    build = time.perf_counter() - start
    memory = memory_mb(make, stored, ids)
    start = time.perf_counter()
    hits = index.search_many(qs, 31)
    batch_qps = len(qs) / (time.perf_counter() - start)
    single = qs[: max(1, len(qs) // 4)]
    start = time.perf_counter()
    for q in single:  # one look-up per call, as an analyzer does for one image
        index.search_many(q[None, :], 31)
    single_qps = len(single) / (time.perf_counter() - start)
    del index
    return build, memory, batch_qps, single_qps, [[(h.id, h.distance) for h in row] for row in hits]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--threads", type=int, default=1, help="OpenMP threads for faiss (0 = its default)")
    args = parser.parse_args()
    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(2025)
    stored = rng.integers(0, 256, size=(args.size, 32), dtype=np.uint8)
    ids = np.arange(args.size, dtype=np.int64) + 10**9
    qs = queries(stored, args.queries, rng)
    candidates: list[tuple[str, Callable[[], PdqIndex]]] = [
        ("flat (IndexBinaryFlat) = baseline", FlatPdqIndex),
        ("multi-hash nhash=16, b=16, nflip=1", lambda: MultiHashPdqIndex(16)),
        ("multi-hash nhash=8, b=32, nflip=3", lambda: MultiHashPdqIndex(8)),
    ]
    table = Table(
        title=f"PDQ index: {args.size:,} codes, {len(qs):,} queries at radius 31 "
        f"({len(qs) // 2:,} planted near-duplicates)"
    )
    cols = (
        "index",
        "build (s)",
        "memory (MB)",
        "batch look-ups/s",
        "vs flat",
        "single look-ups/s",
        "vs flat",
        "same results",
        "matched",
    )
    for col in cols:
        table.add_column(col, justify="left" if col == "index" else "right")
    base_batch = base_single = 0.0
    baseline_hits = None
    for label, make in candidates:
        build, memory, batch, single, hits = run(make, stored, ids, qs)
        if baseline_hits is None:
            base_batch, base_single, baseline_hits = batch, single, hits
        matched = sum(1 for row in hits if row)
        table.add_row(
            label,
            f"{build:.2f}",
            f"{memory:.0f}",
            f"{batch:,.0f}",
            f"{batch / base_batch:.2f}x",
            f"{single:,.0f}",
            f"{single / base_single:.2f}x",
            "yes" if hits == baseline_hits else "NO",
            f"{matched:,}",
        )
    console = Console(width=160)
    console.print(table)
    console.print(
        f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} OpenMP threads, {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
