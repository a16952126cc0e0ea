"""Measure the forensic scores on a labelled set: AUC (real vs ai) and the constants of each policy.

Run it from the repository root; it reads the images in place and prints one table::

    .venv/bin/python -m civicshield.evaluation.forensics ../shared/datasets/dev

It measures the statistic only (no heatmap is drawn), so a full run takes a few minutes.

Why it ships with the analyzers: the AUC in each analyzer's description is the number this prints, and a
reader must be able to reproduce it (and rerun it on new data) with one command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from civicshield.analyzers.forensics.base import ForensicAnalyzer
from civicshield.analyzers.forensics.ela import ElaAnalyzer
from civicshield.analyzers.forensics.noise import NoiseResidualAnalyzer
from civicshield.analyzers.forensics.spectral import SpectralAnalyzer
from civicshield.errors import MediaError
from civicshield.evaluation.dataset import LabelledItem, load_labelled
from civicshield.evaluation.metrics import auc_or_nan, bootstrap_interval
from civicshield.media import Media

__all__ = ["main"]


def _statistics(
    analyzer: ForensicAnalyzer, rows: list[LabelledItem]
) -> tuple[list[float], list[LabelledItem], int]:
    stats: list[float] = []
    kept: list[LabelledItem] = []
    abstained = 0
    for row in rows:
        try:
            media = Media.open(row.path)
            item = analyzer.prepare(media)
            if isinstance(item, str):
                abstained += 1
                continue
            measurement = analyzer.measure(media, item)
        except MediaError:
            abstained += 1
            continue
        stats.append(measurement.statistic)
        kept.append(row)
    return stats, kept, abstained


def _by_generator(stats: list[float], rows: list[LabelledItem], min_items: int = 10) -> None:
    """AUC of each generator with at least ``min_items`` images against all real images."""
    real = [s for s, r in zip(stats, rows, strict=True) if not r.positive]
    generators = sorted({r.generator or "unknown" for r in rows if r.positive})
    for generator in generators:
        fake = [
            s
            for s, r in zip(stats, rows, strict=True)
            if r.positive and (r.generator or "unknown") == generator
        ]
        if len(fake) >= min_items:
            value = auc_or_nan([*fake, *real], [True] * len(fake) + [False] * len(real))
            print(f"    {value:.3f}  {len(fake):3d}  {generator[:70]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dataset", type=Path, help="folder with manifest.csv")
    parser.add_argument("--step", type=int, default=1, help="use every n-th image (quicker, noisier)")
    parser.add_argument("--by-generator", action="store_true", help="also AUC per generator vs all real")
    args = parser.parse_args(argv)
    rows = load_labelled(args.dataset / "manifest.csv", modality="image")[:: args.step]
    print(f"{len(rows)} images ({sum(r.positive for r in rows)} ai)")
    print("analyzer        n  abstained  AUC    95% CI         median(center)  IQR/2(scale)")
    for analyzer in (ElaAnalyzer(), NoiseResidualAnalyzer(), SpectralAnalyzer()):
        stats, kept, abstained = _statistics(analyzer, rows)
        labels = [r.positive for r in kept]
        value = auc_or_nan(stats, labels)
        low, high = bootstrap_interval(stats, labels)
        q25, q50, q75 = np.percentile(stats, [25, 50, 75])
        print(
            f"{analyzer.name:14s} {len(stats):4d} {abstained:6d}     {value:.3f}  "
            f"[{low:.3f}, {high:.3f}]  {q50:10.4f}      {(q75 - q25) / 2:10.4f}"
        )
        if args.by_generator:
            _by_generator(stats, kept)
    return 0


if __name__ == "__main__":
    sys.exit(main())
