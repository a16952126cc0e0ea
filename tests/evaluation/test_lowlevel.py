"""Low-level up-sampling traces: what they measure on pictures built to have (or not have) them, and the
per-family comparison they are judged by."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from civicshield.evaluation.dataset import load_labelled
from civicshield.evaluation.lowlevel import FEATURE_NAMES, lowlevel_features, measure_lowlevel


def _save(array: np.ndarray, path: Path) -> Path:
    Image.fromarray(array.astype(np.uint8)).save(path)
    return path


def test_a_nearest_neighbour_upsampled_picture_has_no_npr_residual_and_a_camera_photo_has_one(
    tmp_path: Path, realcam: Path
) -> None:
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, size=(128, 128, 3))
    upsampled = np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)  # what a 2x nearest up-sampler outputs
    made = dict(zip(FEATURE_NAMES, lowlevel_features(_save(upsampled, tmp_path / "up.png")), strict=True))
    photo_path = next(p for p in sorted(realcam.rglob("*.jpg")))
    photo = dict(zip(FEATURE_NAMES, lowlevel_features(photo_path), strict=True))
    assert made["npr_mean"] < -15 < photo["npr_mean"]  # log of ~0 against a real residual
    noise = dict(
        zip(
            FEATURE_NAMES,
            lowlevel_features(_save(rng.integers(0, 256, (256, 256, 3)), tmp_path / "n.png")),
            strict=True,
        )
    )
    assert abs(noise["npr_pos_spread"]) < 0.1  # white noise: every position of the 2x2 cell alike


def test_the_comparison_gives_one_row_per_held_out_family(dev_set: Path) -> None:
    items = load_labelled(dev_set / "manifest.csv", modality="image")
    families = ("DALL-E mini", "GLID-3-XL")
    chosen = [i for i in items if i.positive and (i.generator or "").startswith(families)][:12]
    chosen += [i for i in items if not i.positive][:24]
    clip = np.random.default_rng(1).normal(size=(len(chosen), 8))  # stands in for CLIP features here
    rows = measure_lowlevel(chosen, clip)
    assert sorted(r[0] for r in rows) == ["DALL-E mini", "GLID-3-XL"]
    for _, n, *aucs in rows:
        assert n > 0 and all(0.0 <= a <= 1.0 for a in aucs)
