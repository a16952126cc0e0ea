"""ROC curves and reliability diagrams as PNG, drawn with ``report.plots.line_plot`` (no plotting library).

Why both: the ROC curve shows what each detector catches at every false-positive rate, independent of its
calibration; the reliability diagram shows whether its probabilities mean what they say (points on the
diagonal), which is what fusion and readers rely on.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from civicshield.evaluation import metrics
from civicshield.report.plots import line_plot

__all__ = ["reliability_png", "roc_png"]

SIZE = (640, 420)


def roc_png(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, title: str = "ROC") -> bytes:
    """``curves`` maps a name to (labels, scores)."""
    series = {}
    for name, (labels, scores) in curves.items():
        roc = metrics.roc_curve(labels, scores)
        series[f"{name} (AUC {metrics.auc(labels, scores):.3f})"] = list(
            zip(roc.fpr.tolist(), roc.tpr.tolist(), strict=True)
        )
    return line_plot(
        series,
        title=title,
        xlabel="false-positive rate (real flagged)",
        ylabel="true-positive rate",
        diagonal=True,
        size=SIZE,
    )


def reliability_png(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, bins: int = 10, title: str = "Reliability"
) -> bytes:
    """``curves`` maps a name to (labels, probabilities); empty bins are left out."""
    series = {}
    for name, (labels, probabilities) in curves.items():
        table = metrics.reliability(labels, probabilities, bins)
        ece = metrics.expected_calibration_error(labels, probabilities, bins)
        series[f"{name} (ECE {ece:.3f})"] = [
            (b.mean_probability, b.positive_rate) for b in table if b.count > 0
        ]
    series["perfect calibration"] = [(0.0, 0.0), (1.0, 1.0)]
    return line_plot(
        series, title=title, xlabel="mean predicted probability", ylabel="observed AI share", size=SIZE
    )
