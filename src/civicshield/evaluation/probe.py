"""Fitting the CLIP probe: features for a labelled set, a calibrated logistic regression, and the head.

Why calibration is fitted the way it is: the Platt parameters must come from scores of images the probe did
not see. Inside every fit we therefore split the training rows into family-preserving parts
(``splits.group_kfold``), score each part with a probe trained on the others, and fit Platt scaling on those
out-of-fold logits; only then is the probe refitted on all training rows. Augmented copies of an image
(JPEG re-compression, downscaling) are only ever added to the training side, never to what is scored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from civicshield.analyzers.ml.clip_features import FeatureRecipe
from civicshield.errors import UsageError
from civicshield.evaluation.calibration import PlattCalibration, fit_platt
from civicshield.evaluation.dataset import LabelledItem
from civicshield.evaluation.embeddings import EmbeddingCache
from civicshield.evaluation.logistic import LogisticModel, fit_logistic
from civicshield.evaluation.splits import group_kfold

__all__ = ["CalibratedProbe", "Candidate", "FeatureSet", "build_features", "fit_calibrated"]


@dataclass(frozen=True)
class Candidate:
    """One way of building the probe, to be measured against the others."""

    name: str
    recipe: FeatureRecipe
    augmentations: tuple[str, ...] = ()
    l2: float = 1.0
    description: str = ""


@dataclass(frozen=True)
class FeatureSet:
    """Feature rows for every item: clean, and per training augmentation (same row order)."""

    clean: np.ndarray
    augmented: Mapping[str, np.ndarray] = field(default_factory=dict)

    def rows(self, condition: str) -> np.ndarray:
        """The clean rows (``none``) or those of one augmentation."""
        return self.clean if condition == "none" else self.augmented[condition]

    def training_rows(
        self, idx: np.ndarray, labels: np.ndarray, augmentations: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        xs = [self.clean[idx]] + [self.augmented[a][idx] for a in augmentations]
        return np.vstack(xs), np.tile(labels[idx], len(xs))


def build_features(
    items: Sequence[LabelledItem],
    cache: EmbeddingCache,
    recipe: FeatureRecipe,
    augmentations: Sequence[str] = (),
    tick: Callable[[str, int, int], None] | None = None,
) -> FeatureSet:
    """Encode (or read from the cache) every view the recipe needs, clean and augmented."""
    paths = [item.path for item in items]

    def rows(aug: str) -> np.ndarray:
        step = (lambda done, total: tick(aug, done, total)) if tick else None
        return recipe.matrix(cache.fill(paths, aug, recipe.views, step))

    return FeatureSet(clean=rows("none"), augmented={a: rows(a) for a in augmentations})


@dataclass(frozen=True)
class CalibratedProbe:
    model: LogisticModel
    platt: PlattCalibration
    oof_logits: np.ndarray  # out-of-fold logits of the training items (clean rows), for thresholds

    def probability(self, features: np.ndarray) -> np.ndarray:
        return self.platt(self.model.logit(features))


def fit_calibrated(
    items: Sequence[LabelledItem],
    features: FeatureSet,
    train: np.ndarray,
    candidate: Candidate,
    *,
    inner_folds: int = 4,
) -> CalibratedProbe:
    """Probe on ``train`` rows, Platt-calibrated on family-preserving out-of-fold logits of those rows."""
    labels = np.array([item.positive for item in items])
    oof = np.full(len(items), np.nan)
    for part in group_kfold(items, train, inner_folds):
        rest = np.setdiff1d(train, part)
        if labels[rest].all() or not labels[rest].any():
            continue
        x, y = features.training_rows(rest, labels, candidate.augmentations)
        oof[part] = fit_logistic(x, y, l2=candidate.l2).logit(features.clean[part])
    scored = train[np.isfinite(oof[train])]
    if labels[scored].all() or not labels[scored].any():
        raise UsageError(
            "too few generator families or real sources to calibrate: the training side needs at least "
            "two of each"
        )
    platt = fit_platt(oof[scored], labels[scored])
    x, y = features.training_rows(train, labels, candidate.augmentations)
    return CalibratedProbe(fit_logistic(x, y, l2=candidate.l2), platt, oof[train])
