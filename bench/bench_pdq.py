"""Our PDQ path vs the raw ``pdqhash.compute`` call on the same decoded arrays, in the same process.

    .venv/bin/python bench/bench_pdq.py [--repeat 9] [--testdata ../shared/testdata]

Every PDQ test image is decoded once (``decode_image``, RGB). Per image we time, fastest of ``--repeat``
interleaved runs:
the baseline ``pdqhash.compute(array)``, ``pdq_from_rgb(array)`` (our hashing: validation, hex packing,
frozen result), and for information the whole ``image_pdq(media)`` (decode + hash + EXIF orientation check).
Target: ``pdq_from_rgb`` within 15 % of the baseline.

A second table prices the look-ups a bank match makes per image since issue 11 (``picture_pdq``: the hash
as stored, its seven turned and mirrored versions from ``pdqhash.compute_dihedral``, and the picture cut out
of a frame when there is one) against the same single ``pdqhash.compute`` baseline, in the same run.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pdqhash
from rich.console import Console
from rich.table import Table

from civicshield.hashing.pdq import image_pdq, pdq_from_rgb, picture_pdq
from civicshield.media import Media, decode_image

DEFAULT_TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"


def once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def paired_ms(base: Callable[[], object], ours: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Fastest of ``repeat`` runs each, alternating which goes first, so machine noise hits both alike."""
    b, o = [], []
    for i in range(repeat):
        if i % 2:
            o.append(once(ours))
            b.append(once(base))
        else:
            b.append(once(base))
            o.append(once(ours))
    return min(b), min(o)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument(
        "--testdata", type=Path, default=Path(os.environ.get("CIVICSHIELD_TESTDATA", DEFAULT_TESTDATA))
    )
    args = parser.parse_args()
    images = sorted(
        p
        for p in (args.testdata / "threatexchange/pdq/images").rglob("*")
        if p.suffix.lower() in {".jpg", ".png", ".webp"}
    )
    table = Table(title=f"PDQ: ours vs raw pdqhash.compute on the same arrays (fastest of {args.repeat}, ms)")
    for col in ("image", "pixels", "pdqhash.compute", "pdq_from_rgb", "overhead", "image_pdq (decode+hash)"):
        table.add_column(col, justify="left" if col == "image" else "right")
    base_total = ours_total = 0.0
    for path in images:
        media = Media.open(path)
        rgb = np.asarray(decode_image(media))
        base, ours = paired_ms(partial(pdqhash.compute, rgb), partial(pdq_from_rgb, rgb), args.repeat)
        full = min(once(partial(image_pdq, media)) for _ in range(max(1, args.repeat // 3)))
        base_total += base
        ours_total += ours
        table.add_row(
            str(path.relative_to(args.testdata / "threatexchange/pdq/images")),
            f"{rgb.shape[1]}x{rgb.shape[0]}",
            f"{base:.2f}",
            f"{ours:.2f}",
            f"{ours / base - 1:+.1%}",
            f"{full:.1f}",
        )
    overall = ours_total / base_total - 1
    table.add_section()
    table.add_row(
        f"all {len(images)} images", "", f"{base_total:.1f}", f"{ours_total:.1f}", f"{overall:+.1%}", ""
    )
    console = Console(width=140)
    console.print(table)
    verdict = "within" if overall <= 0.15 else "OVER"
    console.print(f"overhead of our path over the baseline: {overall:+.2%} ({verdict} the 15 % target)")
    lookups(images, args.testdata, args.repeat, console)


def lookups(images: list[Path], testdata: Path, repeat: int, console: Console) -> None:
    table = Table(title="Bank look-up hashes per image vs one pdqhash.compute (fastest of each, ms)")
    for col in ("image", "pixels", "pdqhash.compute", "picture_pdq (8 turns + frame)", "ratio"):
        table.add_column(col, justify="left" if col == "image" else "right")
    base_total = ours_total = 0.0
    for path in images:
        image = decode_image(Media.open(path))
        rgb = np.asarray(image)
        base, ours = paired_ms(partial(pdqhash.compute, rgb), partial(picture_pdq, image), repeat)
        base_total += base
        ours_total += ours
        name = str(path.relative_to(testdata / "threatexchange/pdq/images"))
        table.add_row(
            name, f"{rgb.shape[1]}x{rgb.shape[0]}", f"{base:.2f}", f"{ours:.2f}", f"{ours / base:.2f}x"
        )
    table.add_section()
    table.add_row(
        f"all {len(images)} images",
        "",
        f"{base_total:.1f}",
        f"{ours_total:.1f}",
        f"{ours_total / base_total:.2f}x",
    )
    console.print(table)


if __name__ == "__main__":
    main()
