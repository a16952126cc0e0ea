"""One row of numbers for a detector on a labelled set, and the per-generator breakdown.

Shared by ``civicshield eval`` and the leave-one-generator-out report, so both print the same columns
computed the same way. ``score`` ranks (AUC, EER, TPR at fixed FPR); ``probability`` is the calibrated output
that accuracy and calibration error are computed on (``None`` for a score that has no calibration).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from civicshield.evaluation import metrics

__all__ = ["GroupRow", "Summary", "by_group", "summarize"]


@dataclass(frozen=True)
class Summary:
    n_ai: int
    n_real: int
    auc: float
    eer: float
    tpr_at_1fpr: float
    tpr_at_5fpr: float
    accuracy: float
    balanced_accuracy: float
    ece: float

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def summarize(labels: np.ndarray, scores: np.ndarray, probabilities: np.ndarray | None = None) -> Summary:
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    nan = float("nan")
    acc = bal = ece = nan
    if probabilities is not None:
        p = np.asarray(probabilities, dtype=np.float64)
        acc = metrics.accuracy(y, p)
        bal = 0.5 * (float(np.mean(p[y] >= 0.5)) + float(np.mean(p[~y] < 0.5)))
        ece = metrics.expected_calibration_error(y, p)
    return Summary(
        n_ai=int(y.sum()),
        n_real=int((~y).sum()),
        auc=metrics.auc(y, s),
        eer=metrics.eer(y, s),
        tpr_at_1fpr=metrics.tpr_at_fpr(y, s, 0.01),
        tpr_at_5fpr=metrics.tpr_at_fpr(y, s, 0.05),
        accuracy=acc,
        balanced_accuracy=bal,
        ece=ece,
    )


@dataclass(frozen=True)
class GroupRow:
    """One generator (or family) against all real items: its AUC, and how many of its images score above
    the cut that lets 5 % of the real items through."""

    group: str
    n: int
    auc: float
    recall_at_5fpr: float
    mean_probability: float


def by_group(
    labels: np.ndarray,
    scores: np.ndarray,
    groups: Sequence[str | None],
    probabilities: np.ndarray | None = None,
) -> list[GroupRow]:
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    cut = metrics.threshold_at_fpr(s[~y], 0.05)
    rows = []
    for group in sorted({g for g, pos in zip(groups, y, strict=True) if pos and g}):
        mask = np.array([g == group for g in groups]) & y
        both = mask | ~y
        mean_p = float(np.mean(probabilities[mask])) if probabilities is not None else float("nan")
        rows.append(
            GroupRow(
                group=group,
                n=int(mask.sum()),
                auc=metrics.auc(y[both], s[both]),
                recall_at_5fpr=float(np.mean(s[mask] >= cut)),
                mean_probability=mean_p,
            )
        )
    return rows
