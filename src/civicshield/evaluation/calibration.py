"""Turning a detector's raw score into a probability: Platt scaling and isotonic regression.

Why calibrate at all: the probe's logit is trained with class-balanced weights and a penalty, so
``sigmoid(logit)`` is a ranking, not a probability. Fusion and the people reading a report need "0.8" to mean
"about 8 in 10 such images were synthetic" on data like the development set. Calibration is always fitted on
scores the probe produced for images it was *not* trained on (out-of-fold scores), never on the images it is
then evaluated on.

Platt scaling (two numbers, ``sigmoid(a * logit + b)``) is what the shipped head uses. Isotonic regression
(pool adjacent violators) is kept to measure that choice against: on the development set's
leave-one-generator-out protocol it calibrated no better (see the model card) while collapsing the scores
into a few hundred tied steps, and ties at a decision threshold are exactly what a detector should avoid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from civicshield.evaluation.logistic import sigmoid

__all__ = ["IsotonicCalibration", "PlattCalibration", "fit_isotonic", "fit_platt"]


@dataclass(frozen=True)
class PlattCalibration:
    """``p = sigmoid(a * logit + b)``."""

    a: float
    b: float

    def __call__(self, logits: np.ndarray) -> np.ndarray:
        return sigmoid(self.a * np.asarray(logits, dtype=np.float64) + self.b)


def fit_platt(logits: np.ndarray, labels: np.ndarray, *, max_iter: int = 100) -> PlattCalibration:
    """Platt's method with his smoothed targets ``(n+ + 1) / (n+ + 2)`` and ``1 / (n- + 2)``, which keep the
    fit finite when the scores separate the classes perfectly. Newton steps are backtracked until the
    cross-entropy decreases: raw probe logits reach +-15, where an undamped step from ``a = 1`` overshoots
    and diverges."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("Platt scaling needs both classes")
    t = np.where(y, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    x = np.stack([z, np.ones_like(z)], axis=1)

    def loss(theta: np.ndarray) -> float:
        u = x @ theta
        return float(np.sum(np.logaddexp(0.0, u) - t * u))

    theta = np.array([0.0, float(np.log((n_pos + 1.0) / (n_neg + 1.0)))])
    current = loss(theta)
    for _ in range(max_iter):
        p = sigmoid(x @ theta)
        grad = x.T @ (p - t)
        hess = (x * (p * (1 - p))[:, None]).T @ x + 1e-12 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-10 and loss(theta - scale * step) > current - 1e-4 * scale * float(grad @ step):
            scale *= 0.5
        theta = theta - scale * step
        current = loss(theta)
        if float(np.abs(scale * step).max()) < 1e-10:
            break
    return PlattCalibration(a=float(theta[0]), b=float(theta[1]))


@dataclass(frozen=True)
class IsotonicCalibration:
    """A non-decreasing step function from score to probability, interpolated linearly between steps."""

    x: np.ndarray
    y: np.ndarray

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.interp(np.asarray(scores, dtype=np.float64), self.x, self.y)
        return out


def fit_isotonic(scores: np.ndarray, labels: np.ndarray) -> IsotonicCalibration:
    """Pool adjacent violators on the sorted scores (tied scores are pooled first)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    values, first_index = np.unique(s, return_inverse=True)
    sums = np.bincount(first_index, weights=y)
    counts = np.bincount(first_index).astype(np.float64)
    blocks: list[list[float]] = []  # [x_first, x_last, sum, count]
    for x, total, n in zip(values.tolist(), sums.tolist(), counts.tolist(), strict=True):
        blocks.append([x, x, total, n])
        while len(blocks) > 1 and blocks[-2][2] / blocks[-2][3] >= blocks[-1][2] / blocks[-1][3]:
            last = blocks.pop()
            blocks[-1][1] = last[1]
            blocks[-1][2] += last[2]
            blocks[-1][3] += last[3]
    knots_x: list[float] = []
    knots_y: list[float] = []
    for first, final, total, n in blocks:
        ends = [first, final] if final > first else [first]
        knots_x += ends
        knots_y += [total / n] * len(ends)
    return IsotonicCalibration(x=np.array(knots_x), y=np.array(knots_y))
