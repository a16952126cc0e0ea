"""Measure the video detector on labelled videos: AUC of the aggregate and of its alternatives, and the
thresholds that ``VideoPolicy`` should carry.

Run it from the repository root (it needs the CLIP detector; the videos are read in place)::

    .venv/bin/python -m civicshield.evaluation.video ../shared/datasets/dev

Why the alternatives are printed too: the aggregate (a high quantile of per-frame max(frame, face)) was a
design choice; a reader should see what the mean, the whole-frame-only and the face-only versions would
have given on the same frames before trusting the choice. The thresholds printed are: ``synthetic`` the
lowest score above which at most ``--fpr`` of the real videos fall, ``authentic`` the highest score below
which at most ``--fnr`` of the synthetic ones fall.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from civicshield.analyzers.ml.video import VideoDetector, VideoPolicy
from civicshield.evaluation.dataset import load_labelled
from civicshield.evaluation.metrics import auc_or_nan, bootstrap_interval
from civicshield.media import Media

__all__ = ["AGGREGATES", "main", "thresholds"]

Frames = Sequence[Mapping[str, Any]]


def _values(frames: Frames, key: str) -> list[float]:
    return [float(f[key]) for f in frames if f.get(key) is not None]


def _suspicion(frames: Frames) -> list[float]:
    out = []
    for f in frames:
        values = [float(f[k]) for k in ("frame_probability", "face_probability") if f.get(k) is not None]
        if values:
            out.append(max(values))
    return out


def _quantile(values: list[float], q: float) -> float:
    return float(np.quantile(values, q)) if values else float("nan")


AGGREGATES: dict[str, Callable[[Frames], float]] = {
    "q90 max(frame,face)": lambda fs: _quantile(_suspicion(fs), 0.9),
    "mean max(frame,face)": lambda fs: float(np.mean(_suspicion(fs))) if _suspicion(fs) else float("nan"),
    "q90 frame": lambda fs: _quantile(_values(fs, "frame_probability"), 0.9),
    "q90 face": lambda fs: _quantile(_values(fs, "face_probability"), 0.9),
    "max face": lambda fs: max(_values(fs, "face_probability"), default=float("nan")),
}


def thresholds(
    scores: Sequence[float], synthetic: Sequence[bool], fpr: float, fnr: float
) -> tuple[float, float]:
    """(synthetic threshold at most ``fpr`` of real above it, authentic threshold at most ``fnr`` of fakes
    at or below it)."""
    s, y = np.asarray(scores, dtype=np.float64), np.asarray(synthetic, dtype=bool)
    real, fake = np.sort(s[~y]), np.sort(s[y])
    allowed_fp = int(np.floor(fpr * real.size))
    synthetic_cut = float(real[real.size - 1 - allowed_fp]) + 1e-4 if real.size else 1.0
    allowed_fn = int(np.floor(fnr * fake.size))
    authentic_cut = float(fake[allowed_fn]) - 1e-4 if fake.size else 0.0
    return round(min(1.0, synthetic_cut), 4), round(max(0.0, authentic_cut), 4)


def _table(name: str, scores: list[float], labels: list[bool], fpr: float, fnr: float) -> None:
    keep = [i for i, v in enumerate(scores) if not np.isnan(v)]
    s, y = [scores[i] for i in keep], [labels[i] for i in keep]
    low, high = bootstrap_interval(s, y)
    synthetic, authentic = thresholds(s, y, fpr, fnr)
    print(
        f"{name:22s} n={len(s):3d}  AUC {auc_or_nan(s, y):.3f} [{low:.3f}, {high:.3f}]  "
        f"synthetic>={synthetic:.4f}  authentic<={authentic:.4f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dataset", help="folder with manifest.csv")
    parser.add_argument("--fpr", type=float, default=0.05)
    parser.add_argument("--fnr", type=float, default=0.10)
    args = parser.parse_args(argv)
    rows = load_labelled(Path(args.dataset) / "manifest.csv", modality="video")
    detector = VideoDetector.load(VideoPolicy(audio=False))
    if isinstance(detector.scorer, str):
        print(f"cannot measure: {detector.scorer}")
        return 2
    per_video: list[tuple[bool, Frames]] = []
    for row in rows:
        signal = detector.analyze(Media.open(row.path))
        frames: Frames = list(signal.evidence.get("frames", []))
        per_video.append((row.positive, frames))
        print(
            f"{row.path.name}  {'ai  ' if row.positive else 'real'}  "
            f"score={signal.score}  frames={len(frames)}"
        )
    labels = [synthetic for synthetic, _ in per_video]
    for name, fn in AGGREGATES.items():
        _table(name, [fn(frames) for _, frames in per_video], labels, args.fpr, args.fnr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
