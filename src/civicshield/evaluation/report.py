"""Plain-text tables for the terminal and the model card (Markdown pipe tables read well in both)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from civicshield.evaluation.matching import MatchingReport
from civicshield.evaluation.metrics import upper_bound
from civicshield.evaluation.runner import FlagRates
from civicshield.evaluation.summary import GroupRow, Summary
from civicshield.evaluation.train import ArrivalCheck

__all__ = ["arrival_table", "copy_table", "flag_table", "group_table", "markdown_table", "summary_table"]


def _pct(value: float) -> str:
    return "–" if math.isnan(value) else f"{100 * value:.1f} %"


def _num(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.3f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def summary_table(rows: Sequence[tuple[str, Summary]]) -> str:
    header = ("method", "AI", "real", "AUC", "acc", "bal. acc", "TPR@1%FPR", "TPR@5%FPR", "EER", "ECE")
    body = [
        (
            name,
            str(s.n_ai),
            str(s.n_real),
            _num(s.auc),
            _pct(s.accuracy),
            _pct(s.balanced_accuracy),
            _pct(s.tpr_at_1fpr),
            _pct(s.tpr_at_5fpr),
            _pct(s.eer),
            _num(s.ece),
        )
        for name, s in rows
    ]
    return markdown_table(header, body)


def group_table(rows: Sequence[GroupRow]) -> str:
    header = ("generator", "n", "AUC vs real", "recall @5%FPR", "mean p")
    body = [(r.group, str(r.n), _num(r.auc), _pct(r.recall_at_5fpr), _num(r.mean_probability)) for r in rows]
    return markdown_table(header, body)


def _share(count: int, total: int) -> str:
    return "–" if not total else f"{count} of {total} ({100 * count / total:.1f} %)"


def flag_table(rows: Sequence[tuple[str, int, FlagRates]]) -> str:
    """At the shipped thresholds: how many genuine items were accused (``detector.synthetic``, with the 95 %
    upper bound a set of this size allows) and how many AI items were caught, per analyzer and per copy;
    then the same counting weak signs too (``detector.possibly_synthetic``)."""
    header = (
        "detector [copy]",
        "abstained",
        "real flagged",
        "upper 95 %",
        "AI flagged",
        "real with weak signs or more",
        "AI with weak signs or more",
    )
    body = [
        (
            name,
            str(abstained),
            _share(r.real_flagged, r.real),
            "–" if r.false_positive_upper is None else f"{100 * r.false_positive_upper:.1f} %",
            _share(r.ai_flagged, r.ai),
            _share(r.real_weak, r.real),
            _share(r.ai_weak, r.ai),
        )
        for name, abstained, r in rows
    ]
    return markdown_table(header, body)


def arrival_table(rows: Sequence[ArrivalCheck]) -> str:
    header = (
        "copy",
        "scored",
        "signs of AI generation (detector.synthetic)",
        "upper 95 %",
        "weak signs or more (detector.possibly_synthetic)",
        "highest p",
    )
    body = [
        (
            "as stored" if r.copy == "none" else r.copy,
            str(r.scored),
            _share(r.likely, r.scored),
            f"{100 * upper_bound(r.likely, r.scored):.1f} %" if r.scored else "–",
            _share(r.flagged, r.scored),
            f"{r.highest:.3f}",
        )
        for r in rows
    ]
    return markdown_table(header, body)


def copy_table(report: MatchingReport, radius: int, resembles: int) -> str:
    """Recall per kind of copy at the match distance and within the wider "resembles" distance, and the
    false matches among pairs of different images at both."""
    header = ("copy", "images", f"matched (<= {radius})", f"resembles (<= {resembles})", "median distance")
    body = [
        (
            r.copy,
            str(r.n),
            _share(r.within(radius), r.n),
            _share(r.within(resembles), r.n),
            f"{float(np.median(r.distances)):.0f}" if r.n else "–",
        )
        for r in report.copies
    ]
    pairs = report.pairs
    lines = [markdown_table(header, body), ""]
    for cut, what in ((radius, "match"), (resembles, "resembles")):
        wrong = report.false_matches(cut)
        bound = f"{100 * upper_bound(wrong, pairs):.4f} %" if pairs else "–"
        lines.append(
            f"Different images within {cut} ({what}): {wrong} of {pairs} pairs "
            f"({100 * wrong / pairs if pairs else 0:.4f} %, 95 % upper bound {bound})"
        )
    return "\n".join(lines)
