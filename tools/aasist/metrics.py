"""The AASIST tools' metrics in the (positives, negatives) form their scripts call, computed by the project's
one measurement library (``civicshield.evaluation.metrics`` and ``.calibration``): no second implementation
of AUC, EER, thresholds or Platt scaling to drift apart from the one the model cards and tests use.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from civicshield.evaluation import metrics
from civicshield.evaluation.calibration import fit_platt as _fit_platt


def _both(pos: Sequence[float], neg: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    labels = np.r_[np.ones(len(pos), dtype=bool), np.zeros(len(neg), dtype=bool)]
    return labels, np.r_[np.asarray(pos, dtype=np.float64), np.asarray(neg, dtype=np.float64)]


def auc(pos: Sequence[float], neg: Sequence[float]) -> float:
    return metrics.auc(*_both(pos, neg))


def eer(pos: Sequence[float], neg: Sequence[float]) -> float:
    return metrics.eer(*_both(pos, neg))


def threshold_at_fpr(neg: Sequence[float], fpr: float) -> float:
    return metrics.threshold_at_fpr(neg, fpr)


def tpr_at_fpr(pos: Sequence[float], neg: Sequence[float], fpr: float) -> float:
    return float(np.mean(np.asarray(pos) >= metrics.threshold_at_fpr(neg, fpr)))


def fit_platt(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    fitted = _fit_platt(np.asarray(x), np.asarray(y) > 0)
    return fitted.a, fitted.b


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def brier(p: np.ndarray, y: np.ndarray) -> float:
    return metrics.brier(np.asarray(y) > 0, p)


def ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    return metrics.expected_calibration_error(np.asarray(y) > 0, p, bins)
