"""Detection metrics and Platt scaling in plain numpy (build time; the evaluation's arithmetic).

Scores are "higher = more likely synthetic"; positives are synthetic clips, negatives real ones.

>>> auc([0.9, 0.8], [0.1, 0.85])
0.75
>>> round(eer([3.0, 2.0, 1.0], [0.0, 0.5, 2.5]), 3)
0.333
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def auc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """Area under the ROC curve (ties count half)."""
    p, n = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(np.mean(p > n) + 0.5 * np.mean(p == n))


def eer(pos: Sequence[float], neg: Sequence[float]) -> float:
    """Equal error rate: the smallest max(miss rate, false-alarm rate) over all thresholds."""
    p, n = np.asarray(pos), np.asarray(neg)
    best = 1.0
    for t in np.unique(np.concatenate([p, n, [np.inf]])):
        best = min(best, max(float(np.mean(p < t)), float(np.mean(n >= t))))
    return best


def threshold_at_fpr(neg: Sequence[float], fpr: float) -> float:
    """The lowest threshold ``t`` with ``mean(neg >= t) <= fpr`` (a flag is ``score >= t``)."""
    n = np.sort(np.asarray(neg))[::-1]
    allowed = int(np.floor(fpr * n.size + 1e-9))
    if allowed >= n.size:
        return float(n[-1])
    return float(np.nextafter(n[allowed], np.inf))


def tpr_at_fpr(pos: Sequence[float], neg: Sequence[float], fpr: float) -> float:
    return float(np.mean(np.asarray(pos) >= threshold_at_fpr(neg, fpr)))


def fit_platt(x: np.ndarray, y: np.ndarray, *, steps: int = 100) -> tuple[float, float]:
    """Logistic regression of ``y`` on the single feature ``x`` (Platt scaling), by damped Newton steps
    with Platt's target smoothing so separable data cannot drive the slope to infinity."""
    n_pos, n_neg = float(y.sum()), float((1 - y).sum())
    target = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    a, b = 0.0, float(np.log((n_pos + 1) / (n_neg + 1)))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(a * x + b)))
        w = np.maximum(p * (1 - p), 1e-12)
        grad = np.array([np.sum((p - target) * x), np.sum(p - target)])
        hess = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        a, b = a - float(step[0]), b - float(step[1])
        if float(np.abs(step).max()) < 1e-10:
            break
    return a, b


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def brier(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for k in range(bins):
        sel = idx == k
        if sel.any():
            total += sel.mean() * abs(float(p[sel].mean()) - float(y[sel].mean()))
    return total
