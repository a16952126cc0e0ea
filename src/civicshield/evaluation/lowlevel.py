"""Low-level traces of up-sampling, as a candidate complement to the CLIP probe for GAN imagery.

Generators that decode at low resolution and up-sample (GAN and VQGAN decoders, nearest or transposed
convolutions) leave correlations between neighbouring pixels that a camera does not. Two measurements, both
on the luminance of the image as stored (no resizing, which would wash the traces out):

- **NPR** (neighbouring pixel relationships; Tan et al., "Rethinking the Up-Sampling Operations in CNN-based
  Generative Network for Generalizable Deepfake Detection", CVPR 2024): the residual of the image minus its
  2x2 nearest-neighbour down-and-up-sampled copy. The paper feeds it to a CNN; here its statistics are the
  features (mean absolute residual of the three non-anchor positions of the 2x2 cell, their spread, and the
  residual's kurtosis), which a linear model can use beside the CLIP features.
- **Spectral peaks**: the energy of the residual's 2D spectrum at the periodic frequencies up-sampling by 2
  and 4 leaves (N/2, N/4 along each axis), relative to the median energy around them.

These are measured in ``evaluation`` (``civicshield eval-gan``) and shipped in no detector unless the
measurement shows they help on held-out generator families without costing elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from civicshield.evaluation import metrics
from civicshield.evaluation.dataset import LabelledItem
from civicshield.evaluation.logistic import fit_logistic
from civicshield.evaluation.splits import logo_folds
from civicshield.media import Media, decode_image

__all__ = ["FEATURE_NAMES", "lowlevel_features", "lowlevel_matrix", "measure_lowlevel"]

FEATURE_NAMES = (
    "npr_mean",
    "npr_pos_spread",
    "npr_pos_max_ratio",
    "npr_kurtosis",
    "peak_half",
    "peak_quarter",
)
MAX_SIDE = 1024  # central crop: bounded cost, native pixels kept


def _luma(path: Path) -> np.ndarray:
    image = decode_image(Media.open(path)).convert("L")
    a = np.asarray(image, dtype=np.float64)
    h, w = a.shape
    top, left = max(0, (h - MAX_SIDE) // 2), max(0, (w - MAX_SIDE) // 2)
    a = a[top : top + MAX_SIDE, left : left + MAX_SIDE]
    return a[: a.shape[0] // 4 * 4, : a.shape[1] // 4 * 4]


def _peak(power: np.ndarray, fy: int, fx: int) -> float:
    n = 3
    window = power[max(0, fy - n) : fy + n + 1, max(0, fx - n) : fx + n + 1]
    return float(np.log1p(power[fy, fx]) - np.log1p(np.median(window) + 1e-9))


def lowlevel_features(path: Path) -> np.ndarray:
    """The feature vector of one image (``FEATURE_NAMES``)."""
    a = _luma(path)
    up = np.repeat(np.repeat(a[::2, ::2], 2, axis=0), 2, axis=1)
    npr = a - up
    absolute = np.abs(npr)
    # The anchor pixel of each 2x2 cell is its own down-sample: its residual is zero by construction, so
    # only the other three positions carry information.
    cells = [absolute[i::2, j::2].mean() for i, j in ((0, 1), (1, 0), (1, 1))]
    mean = float(np.mean(cells)) + 1e-9
    positions = np.array(cells) / mean
    centred = npr - npr.mean()
    kurtosis = float((centred**4).mean() / ((centred**2).mean() ** 2 + 1e-12))
    power = np.abs(np.fft.fftshift(np.fft.fft2(npr))) ** 2
    h, w = power.shape
    cy, cx = h // 2, w // 2
    half = np.mean([_peak(power, cy, 0), _peak(power, 0, cx)])
    quarter = np.mean([_peak(power, cy, cx + w // 4), _peak(power, cy + h // 4, cx)])
    return np.array(
        [
            np.log(mean),
            float(positions.std()),
            float(positions.max() / max(positions.min(), 1e-9)),
            np.log(max(kurtosis, 1e-9)),
            half,
            quarter,
        ]
    )


def lowlevel_matrix(paths: Sequence[Path]) -> np.ndarray:
    return np.vstack([lowlevel_features(p) for p in paths])


def measure_lowlevel(
    items: Sequence[LabelledItem], clip: np.ndarray, *, real_test_share: float = 0.3
) -> list[tuple[str, int, float, float, float]]:
    """Leave-one-generator-out AUC per held-out family of three linear probes on the same folds: the CLIP
    features alone, the low-level features alone, both. Rows: (family, AI images, clip, low, both)."""
    low = lowlevel_matrix([i.path for i in items])
    y = np.array([i.positive for i in items])
    rows = []
    for fold in logo_folds(items, real_test_share=real_test_share):
        aucs = []
        for x in (clip, low, np.hstack([clip, low])):
            model = fit_logistic(x[fold.train], y[fold.train])
            aucs.append(metrics.auc(y[fold.test], model.logit(x[fold.test])))
        rows.append((fold.name, int(y[fold.test].sum()), aucs[0], aucs[1], aucs[2]))
    return rows
