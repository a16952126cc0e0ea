"""L2-regularised logistic regression in numpy (Newton's method), the probe's only learner.

Why not scikit-learn: the problem is a few hundred rows by at most a few thousand columns, which Newton's
method solves exactly in a handful of steps; one small deterministic function is easier to audit than a
dependency, and the result is a weight vector and a bias that the analyzer applies with one dot product.

Features are standardised with the training rows' mean and standard deviation; the penalty
``l2 / 2 * |w|^2`` is on the standardised weights (the bias is not penalised), and rows may be weighted so
that each class counts equally however unbalanced the training set is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["LogisticModel", "fit_logistic", "sigmoid"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free
    return out


@dataclass(frozen=True)
class LogisticModel:
    """``logit(x) = ((x - mean) / scale) @ weights + bias``."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def logit(self, features: np.ndarray) -> np.ndarray:
        z: np.ndarray = ((np.asarray(features, dtype=np.float64) - self.mean) / self.scale) @ self.weights
        return z + self.bias

    def probability(self, features: np.ndarray) -> np.ndarray:
        return sigmoid(self.logit(features))


def _balanced_weights(y: np.ndarray) -> np.ndarray:
    n_pos, n_neg = y.sum(), (~y).sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError("logistic regression needs both classes")
    weights: np.ndarray = np.where(y, 0.5 * y.size / n_pos, 0.5 * y.size / n_neg)
    return weights


def _conjugate_gradient(
    matvec: Callable[[np.ndarray], np.ndarray], b: np.ndarray, rtol: float, max_iter: int
) -> np.ndarray:
    """Solve ``A x = b`` for a symmetric positive-definite ``A`` given only ``v -> A v``."""
    x = np.zeros_like(b)
    r = b.copy()
    d = r.copy()
    rr = float(r @ r)
    stop = (rtol**2) * rr
    for _ in range(max_iter):
        if rr <= stop:
            break
        ad = matvec(d)
        alpha = rr / float(d @ ad)
        x += alpha * d
        r -= alpha * ad
        rr, previous = float(r @ r), rr
        d = r + (rr / previous) * d
    return x


def fit_logistic(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    l2: float = 1.0,
    balanced: bool = True,
    max_iter: int = 50,
    tol: float = 1e-7,
    prior: LogisticModel | None = None,
) -> LogisticModel:
    """Fit by Newton's method on standardised features, each step solved by conjugate gradients on
    Hessian-vector products (never forming the d x d Hessian, which is what made plain Newton slow for a
    thousand features) and guarded by a backtracking line search, so it always descends.

    ``prior``: learn *from* an existing model instead of from nothing. Its standardisation is kept and the
    penalty pulls the weights towards its weights (``l2 / 2 * |w - w_prior|^2``), so a few dozen new rows
    correct the model where they disagree with it without forgetting what it learnt from thousands."""
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    if prior is None:
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        anchor = np.zeros(x.shape[1] + 1)
    else:
        if prior.weights.shape[0] != x.shape[1]:
            raise ValueError(f"prior has {prior.weights.shape[0]} weights for {x.shape[1]} features")
        mean, scale = prior.mean, prior.scale
        anchor = np.append(prior.weights, prior.bias)
    xs = np.hstack([(x - mean) / scale, np.ones((x.shape[0], 1))])
    sw = _balanced_weights(y) if balanced else np.ones(y.size)
    penalty = np.full(xs.shape[1], l2)
    penalty[-1] = 0.0

    def loss(theta: np.ndarray) -> float:
        z = xs @ theta
        return float(sw @ (np.logaddexp(0.0, z) - y * z)) + 0.5 * float(penalty @ (theta - anchor) ** 2)

    theta = anchor.copy()
    current = loss(theta)
    for _ in range(max_iter):
        p = sigmoid(xs @ theta)
        grad = xs.T @ (sw * (p - y)) + penalty * (theta - anchor)
        size = float(np.abs(grad).max())
        if size < tol:
            break
        w = sw * p * (1 - p)
        damping = penalty + 1e-9

        def hessian_times(v: np.ndarray, w: np.ndarray = w, damping: np.ndarray = damping) -> np.ndarray:
            out: np.ndarray = xs.T @ (w * (xs @ v)) + damping * v
            return out

        step = _conjugate_gradient(hessian_times, grad, min(0.1, size**0.5), 2 * xs.shape[1])
        t = 1.0
        while t > 1e-6:
            candidate = loss(theta - t * step)
            if candidate <= current - 1e-4 * t * float(grad @ step):
                break
            t *= 0.5
        theta = theta - t * step
        current = loss(theta)
    return LogisticModel(mean=mean, scale=scale, weights=theta[:-1], bias=float(theta[-1]))
