"""``civicshield train feedback-probe``: learn from reviewers' labels, measured against the model in use.

Reviewers label the items they checked (AI-generated or genuine); the service exports those of the
organizations that consented, within TLP (``civicshield admin learning-export``), as a manifest in the
development set's format. This module turns such a set into a *candidate* head and the measurements the
promotion rule needs, and nothing more: registering, shadow scoring and promotion are
``civicshield.learning``'s.

How the candidate is fitted: the same features as the head in use (same encoder, same recipe), and the
logistic regression starts from the head in use — its standardisation is kept and the penalty pulls the
weights towards its weights (``fit_logistic(prior=…)``) — so a few dozen labels correct the detector where
reviewers found it wrong without discarding what it learnt from the development set. Platt calibration and
both thresholds are then fitted on this deployment's own reviewed items (per-deployment calibration):
``synthetic`` for the false-positive target on the reviewed genuine items and on the training part of the
genuine-photo set (camera originals: without them a set of normalised reviewed copies puts the threshold
where the first camera original crosses it), ``authentic`` for the miss-rate target on the reviewed AI
items. That training part also joins the fit as genuine rows, as it did for the shipped head.

How it is measured: every reviewed item is scored by a candidate fitted *without* it (k parts keeping
generator families and sources whole), beside the model in use on the same item; and both models score a
genuine-photo check set that neither was fitted on (the held-out part of a real-only manifest, split by
device exactly as the shipped head's training split it, as stored and as messaging copies). The
``synthetic`` threshold is chosen on the same reviewed genuine items whose false positives are then
counted, which flatters the candidate there: that is why the independent genuine check decides.

Refused: sets too small or too unbalanced to measure anything (``UsageError`` saying how many of each).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from civicshield.analyzers.ml.clip_head import LIKELY_TARGET_FPR, ProbeHead, Thresholds
from civicshield.errors import UsageError
from civicshield.evaluation import metrics
from civicshield.evaluation.calibration import fit_platt
from civicshield.evaluation.dataset import LabelledItem
from civicshield.evaluation.embeddings import EmbeddingCache
from civicshield.evaluation.logistic import LogisticModel, fit_logistic
from civicshield.evaluation.probe import build_features
from civicshield.evaluation.splits import group_kfold
from civicshield.evaluation.train import check_arrivals, split_arrivals
from civicshield.learning.promotion import Comparison, Tally

__all__ = ["FeedbackConfig", "FeedbackOutcome", "check_trainable", "train_feedback_probe"]

Tick = Callable[[str, int, int], None]


@dataclass(frozen=True)
class FeedbackConfig:
    version: str
    active_version: str = "shipped"
    synthetic_fpr: float = 0.01
    authentic_fnr: float = 0.05
    l2: float = 1.0
    folds: int = 5
    min_per_class: int = 20
    max_imbalance: float = 4.0  # larger class / smaller class
    check_share: float = 0.35  # the genuine check: share of whole devices held out (as the shipped head)
    data_name: str = ""
    check_name: str = ""


@dataclass(frozen=True)
class FeedbackOutcome:
    head: ProbeHead
    comparison: Comparison
    auc_active: float
    auc_candidate: float
    card: str


def check_trainable(items: Sequence[LabelledItem], config: FeedbackConfig) -> None:
    """Refuse a labelled set too small or too unbalanced to fit and measure anything."""
    n_ai = sum(i.positive for i in items)
    n_real = len(items) - n_ai
    if min(n_ai, n_real) < config.min_per_class:
        raise UsageError(
            f"too few reviewed items to learn from and measure: {n_ai} AI-generated and {n_real} genuine; "
            f"at least {config.min_per_class} of each are needed"
        )
    if max(n_ai, n_real) > config.max_imbalance * min(n_ai, n_real):
        raise UsageError(
            f"too unbalanced to measure: {n_ai} AI-generated and {n_real} genuine (the larger class may be "
            f"at most {config.max_imbalance:g} times the smaller); label more of the other kind"
        )


def _tally(labels: np.ndarray, flagged: np.ndarray) -> Tally:
    return Tally(
        ai=int(labels.sum()),
        caught=int((flagged & labels).sum()),
        genuine=int((~labels).sum()),
        flagged=int((flagged & ~labels).sum()),
    )


def _check_tally(
    items: Sequence[LabelledItem], cache: EmbeddingCache, head: ProbeHead, tick: Tick | None
) -> Tally:
    checks = check_arrivals(items, cache, head, tick)
    return Tally(
        ai=0, caught=0, genuine=sum(c.scored for c in checks), flagged=sum(c.flagged for c in checks)
    )


def _card(config: FeedbackConfig, head: ProbeHead, c: Comparison, aucs: tuple[float, float]) -> str:
    ra, rc, ca, cc = c.reviewed_active, c.reviewed_candidate, c.check_active, c.check_candidate
    t = head.thresholds
    return "\n".join(
        [
            f"# Model card: {head.version} (clip_detector, learnt from reviewers)",
            "",
            "A candidate head for `clip_detector`, fitted by `civicshield train feedback-probe` on "
            f"reviewers' labels ({config.data_name or 'exported set'}), starting from "
            f"**{config.active_version}** (same CLIP encoder and features; weights pulled towards the model "
            "in use).",
            "",
            "## Data",
            f"- {rc.ai} items labelled AI-generated and {rc.genuine} labelled genuine by reviewers of "
            "organizations that consented to training, within their sharing labels.",
            f"- Genuine-photo check (never fitted on): {config.check_name or '-'}, {cc.genuine} scorings "
            "(held-out devices, as stored and as messaging copies).",
            "",
            "## Measured (reviewed items scored out of fold; the same items for both models)",
            "",
            "| | model in use | this candidate |",
            "|---|---|---|",
            f"| reviewed AI-generated caught | {ra.caught} of {ra.ai} | {rc.caught} of {rc.ai} |",
            f"| reviewed genuine flagged | {ra.flagged} of {ra.genuine} | {rc.flagged} of {rc.genuine} |",
            f"| AUC on reviewed items | {aucs[0]:.3f} | {aucs[1]:.3f} |",
            f"| genuine check photos flagged | {ca.flagged} of {ca.genuine} | {cc.flagged} of {cc.genuine} |",
            "",
            f"Thresholds (fitted on this deployment's reviewed items): synthetic >= {t.synthetic:.4f} "
            f"(target {t.synthetic_target_fpr:.0%} false positives), authentic <= {t.authentic:.4f}.",
            "",
            "## Limits",
            "- The synthetic threshold is chosen on the reviewed genuine items that are then counted; the "
            "genuine-photo check is the independent false-positive measurement.",
            "- Reviewers label what reached them: a set that over-represents one generator or one kind of "
            "photo teaches that; the promotion rule compares with the model in use on the same items.",
            "- It runs in shadow first and decides nothing until promoted (`civicshield models promote`).",
            "",
        ]
    )


def train_feedback_probe(
    reviewed: Sequence[LabelledItem],
    active: ProbeHead,
    genuine_check: Sequence[LabelledItem],
    cache: EmbeddingCache,
    config: FeedbackConfig,
    tick: Tick | None = None,
) -> FeedbackOutcome:
    """A candidate head learnt from ``reviewed`` starting from ``active``, and its comparison with it."""
    check_trainable(reviewed, config)
    if any(item.positive for item in genuine_check):
        raise UsageError("the genuine-photo check must hold genuine photos only (label real)")
    arrivals, check = split_arrivals(genuine_check, config.check_share)
    if not check:
        raise UsageError("the genuine-photo check set is empty")
    rows = [*reviewed, *arrivals]
    x = build_features(rows, cache, active.recipe, tick=tick).clean
    y = np.array([item.positive for item in rows])
    prior = LogisticModel(active.mean, active.scale, active.weights, active.bias)
    everything = np.arange(len(rows))
    oof = np.full(len(rows), np.nan)
    for part in group_kfold(rows, everything, config.folds):
        rest = np.setdiff1d(everything, part)
        if y[rest].all() or not y[rest].any():
            continue
        oof[part] = fit_logistic(x[rest], y[rest], l2=config.l2, prior=prior).logit(x[part])
    mine = np.zeros(len(rows), dtype=bool)
    mine[: len(reviewed)] = True
    scored = np.isfinite(oof)
    if y[scored & mine].all() or not y[scored & mine].any():
        raise UsageError("the reviewed items come from too few sources to score them out of fold")
    platt = fit_platt(oof[scored], y[scored])
    p_oof = np.full(len(rows), np.nan)
    p_oof[scored] = platt(oof[scored])
    final = fit_logistic(x, y, l2=config.l2, prior=prior)
    synthetic = min(metrics.threshold_at_fpr(p_oof[scored & ~y], config.synthetic_fpr), 0.999)
    authentic = min(metrics.threshold_at_fnr(p_oof[scored & y], config.authentic_fnr), synthetic / 2)
    # "Signs of AI generation" at 0.1 %: a deployment's few hundred genuine items cannot place that cut, so
    # it is the same share of them or the model in use's probability cut, whichever is stricter.
    likely_fpr = active.thresholds.likely_target_fpr or LIKELY_TARGET_FPR
    likely = max(
        synthetic,
        min(metrics.threshold_at_fpr(p_oof[scored & ~y], likely_fpr), 0.999),
        active.thresholds.likely or 0.0,
    )
    head = ProbeHead(
        version=config.version,
        encoder_sha256=active.encoder_sha256,
        recipe=active.recipe,
        mean=final.mean,
        scale=final.scale,
        weights=final.weights,
        bias=final.bias,
        platt_a=platt.a,
        platt_b=platt.b,
        thresholds=Thresholds(
            synthetic=round(synthetic, 6),
            authentic=round(max(authentic, 0.0), 6),
            synthetic_target_fpr=config.synthetic_fpr,
            authentic_target_fnr=config.authentic_fnr,
            likely=round(likely, 6),
            likely_target_fpr=likely_fpr,
        ),
        info={
            "learnt_from": config.active_version,
            "training_data": config.data_name,
            "n_ai": int(y.sum()),
            "n_real": int((~y).sum()),
            "genuine_arrivals": len(arrivals),
            "method": "logistic regression pulled towards the model in use (l2 "
            f"{config.l2:g}), Platt calibration on {config.folds}-part out-of-fold logits",
        },
    )
    measured = scored & mine
    p_active = active.probability(x[measured])
    comparison = Comparison(
        active_version=config.active_version,
        reviewed_active=_tally(y[measured], p_active >= active.thresholds.synthetic),
        reviewed_candidate=_tally(y[measured], p_oof[measured] >= head.thresholds.synthetic),
        check_active=_check_tally(check, cache, active, tick),
        check_candidate=_check_tally(check, cache, head, tick),
        check_name=config.check_name,
    )
    aucs = (metrics.auc(y[measured], p_active), metrics.auc(y[measured], p_oof[measured]))
    return FeedbackOutcome(head, comparison, aucs[0], aucs[1], _card(config, head, comparison, aucs))
