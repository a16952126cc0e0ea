"""PDQ of camera photos decoded in full vs by JPEG DCT scaling (``pdq.PDQ_DECODE_SIDE``), in one process.

    .venv/bin/python bench/bench_pdq_draft.py [--photos ../shared/datasets/realcam] [--repeat 3]

For every JPEG of the folder: the time to decode and hash in full (the baseline: ``decode_image`` without a
draft size, then ``picture_pdq``) and the way ``image_pdq`` does it now (draft decode, then the same),
fastest of ``--repeat`` interleaved runs; and the Hamming distance between the two hashes as stored. A bank
match allows 31 bits; the issue's tolerance is "the same hashes within the published tolerances".
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from civicshield.hashing.pdq import PDQ_DECODE_SIDE, hamming, picture_pdq
from civicshield.media import Media, decode_image

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "realcam"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = sorted(p for p in args.photos.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg"})
    full_ms: list[float] = []
    draft_ms: list[float] = []
    drift: list[int] = []
    for path in files:
        media = Media.open(path)
        best_full = best_draft = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            full = picture_pdq(decode_image(media))
            middle = time.perf_counter()
            draft = picture_pdq(decode_image(media, draft_side=PDQ_DECODE_SIDE))
            best_full = min(best_full, middle - start)
            best_draft = min(best_draft, time.perf_counter() - middle)
        full_ms.append(best_full * 1000)
        draft_ms.append(best_draft * 1000)
        drift.append(hamming(full.stored.hex, draft.stored.hex))
    table = Table(title=f"{len(files)} JPEGs from {args.photos} (draft side {PDQ_DECODE_SIDE})")
    for column in ("path", "median ms", "total s", "ratio to full", "PDQ bits from full: max / mean / p95"):
        table.add_column(column)
    total_full, total_draft = sum(full_ms) / 1000, sum(draft_ms) / 1000
    table.add_row("full decode (baseline)", f"{np.median(full_ms):.0f}", f"{total_full:.2f}", "1.00", "—")
    table.add_row(
        "draft decode (image_pdq)",
        f"{np.median(draft_ms):.0f}",
        f"{total_draft:.2f}",
        f"{total_draft / total_full:.2f}",
        f"{max(drift)} / {np.mean(drift):.2f} / {np.percentile(drift, 95):.0f}",
    )
    Console().print(table)


if __name__ == "__main__":
    main()
