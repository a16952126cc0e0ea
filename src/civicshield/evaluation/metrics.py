"""Detection metrics on (label, score) pairs, in plain numpy.

Conventions: ``labels`` are booleans, True for the positive class (AI-generated / fake); higher scores mean
"more likely positive". Ties are handled exactly (a tied pair counts one half in the AUC; an ROC point is
placed only between distinct scores), because detectors that saturate produce many ties and silently
breaking them in the input order would flatter or punish a detector by accident.

Why "TPR at a fixed FPR" is reported next to AUC: a deployment sets one threshold to keep false accusations
of real media rare, and what it then catches is the number that matters. ``tpr_at_fpr`` never lets the
false-positive rate exceed the target (no interpolation past a tie).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ReliabilityBin",
    "RocCurve",
    "accuracy",
    "auc",
    "auc_or_nan",
    "bootstrap_interval",
    "brier",
    "eer",
    "expected_calibration_error",
    "reliability",
    "roc_curve",
    "threshold_at_fnr",
    "threshold_at_fpr",
    "tpr_at_fpr",
    "upper_bound",
]


def _check(labels: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=bool).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if y.shape != s.shape:
        raise ValueError(f"{y.size} labels but {s.size} scores")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite")
    return y, s


def _need_both(y: np.ndarray) -> None:
    if y.all() or not y.any():
        raise ValueError("need at least one positive and one negative")


@dataclass(frozen=True)
class RocCurve:
    """ROC points from (0, 0) to (1, 1); ``thresholds[i]`` is the score cut (``score >= t``) of point i."""

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray


def roc_curve(labels: ArrayLike, scores: ArrayLike) -> RocCurve:
    y, s = _check(labels, scores)
    _need_both(y)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]
    tp = np.cumsum(y)[last_of_run]
    fp = (last_of_run + 1) - tp
    fpr = np.r_[0.0, fp / (~y).sum()]
    tpr = np.r_[0.0, tp / y.sum()]
    return RocCurve(fpr=fpr, tpr=tpr, thresholds=np.r_[np.inf, s[last_of_run]])


def auc(labels: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve = P(score of a random positive > a random negative), ties count 1/2."""
    y, s = _check(labels, scores)
    _need_both(y)
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size, dtype=np.float64)
    sorted_s = s[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s)) + 1]
    ends = np.r_[starts[1:], s.size]
    for a, b in zip(starts, ends, strict=True):
        ranks[order[a:b]] = (a + b + 1) / 2.0  # average 1-based rank of the tie run
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def tpr_at_fpr(labels: ArrayLike, scores: ArrayLike, max_fpr: float) -> float:
    """The highest true-positive rate of any threshold whose false-positive rate is <= ``max_fpr``."""
    curve = roc_curve(labels, scores)
    ok = curve.fpr <= max_fpr + 1e-12
    return float(curve.tpr[ok].max())


def eer(labels: ArrayLike, scores: ArrayLike) -> float:
    """Equal error rate: where the false-positive and false-negative rates cross (linear interpolation)."""
    curve = roc_curve(labels, scores)
    fnr = 1.0 - curve.tpr
    diff = curve.fpr - fnr  # rises from -1 to +1 along the curve
    i = int(np.flatnonzero(diff >= 0)[0])
    if i == 0 or diff[i] == 0:
        return float(curve.fpr[i])
    w = -diff[i - 1] / (diff[i] - diff[i - 1])
    return float(curve.fpr[i - 1] + w * (curve.fpr[i] - curve.fpr[i - 1]))


def threshold_at_fpr(negative_scores: ArrayLike, max_fpr: float) -> float:
    """The lowest cut ``t`` such that at most ``max_fpr`` of the negatives score ``>= t``."""
    neg = np.sort(np.asarray(negative_scores, dtype=np.float64))[::-1]
    if neg.size == 0:
        raise ValueError("no negative scores")
    allowed = int(np.floor(max_fpr * neg.size + 1e-9))
    if allowed >= neg.size:
        return float(neg[-1])
    return float(np.nextafter(neg[allowed], np.inf))


def threshold_at_fnr(positive_scores: ArrayLike, max_fnr: float) -> float:
    """The highest cut ``t`` such that at most ``max_fnr`` of the positives score ``<= t``."""
    pos = np.sort(np.asarray(positive_scores, dtype=np.float64))
    if pos.size == 0:
        raise ValueError("no positive scores")
    allowed = int(np.floor(max_fnr * pos.size + 1e-9))
    if allowed >= pos.size:
        return float(pos[-1])
    return float(np.nextafter(pos[allowed], -np.inf))


def accuracy(labels: ArrayLike, probabilities: ArrayLike, threshold: float = 0.5) -> float:
    y, p = _check(labels, probabilities)
    return float(np.mean((p >= threshold) == y))


def brier(labels: ArrayLike, probabilities: ArrayLike) -> float:
    y, p = _check(labels, probabilities)
    return float(np.mean((p - y) ** 2))


@dataclass(frozen=True)
class ReliabilityBin:
    lo: float
    hi: float
    count: int
    mean_probability: float
    positive_rate: float


def reliability(labels: ArrayLike, probabilities: ArrayLike, bins: int = 10) -> list[ReliabilityBin]:
    """Equal-width probability bins (the last one closed) with their mean prediction and observed rate."""
    y, p = _check(labels, probabilities)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        out.append(
            ReliabilityBin(
                lo=float(edges[b]),
                hi=float(edges[b + 1]),
                count=n,
                mean_probability=float(p[mask].mean()) if n else float("nan"),
                positive_rate=float(y[mask].mean()) if n else float("nan"),
            )
        )
    return out


def expected_calibration_error(labels: ArrayLike, probabilities: ArrayLike, bins: int = 10) -> float:
    """Count-weighted mean |observed rate - mean prediction| over the reliability bins."""
    table = reliability(labels, probabilities, bins)
    total = sum(b.count for b in table)
    return float(sum(b.count * abs(b.positive_rate - b.mean_probability) for b in table if b.count) / total)


def _binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (exact enough for n in the tens of thousands)."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    total = 0.0
    for i in range(k + 1):
        log_term = math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p
        total += math.exp(log_term + (n - i) * log_q)
    return min(total, 1.0)


def upper_bound(successes: int, trials: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper confidence bound on a rate seen as ``successes`` of ``trials``: the
    largest rate under which seeing so few would still have a chance of ``1 - confidence``. 0 of 300 gives
    about 1 %: the number of genuine photos needed before "under 1 % false positives" means anything."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {successes}/{trials}")
    if successes == trials:
        return 1.0
    alpha = 1.0 - confidence
    low, high = successes / trials, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        if _binomial_cdf(successes, trials, mid) > alpha:
            low = mid
        else:
            high = mid
    return high


def auc_or_nan(scores: ArrayLike, positive: ArrayLike) -> float:
    """``auc`` (scores first, as the bootstrap passes them), or NaN where a resample holds one class only."""
    y = np.asarray(positive, dtype=bool)
    if y.all() or not y.any():
        return float("nan")
    return auc(y, np.asarray(scores, dtype=np.float64))


def bootstrap_interval(
    scores: ArrayLike,
    positive: ArrayLike,
    rounds: int = 500,
    seed: int = 0,
) -> tuple[float, float]:
    """A 95 % percentile-bootstrap interval of the AUC (resampling items)."""
    rng = np.random.default_rng(seed)
    s, y = np.asarray(scores), np.asarray(positive, dtype=bool)
    values = []
    for _ in range(rounds):
        idx = rng.integers(0, s.size, s.size)
        value = auc_or_nan(s[idx], y[idx])
        if not np.isnan(value):
            values.append(value)
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)
