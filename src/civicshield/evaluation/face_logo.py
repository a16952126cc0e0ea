"""The CLIP probe on face crops, leave-one-generator-out: ``civicshield train face-crops``.

Why a separate measurement: the faces analyzer scores a crop around each face with the detector that was
fitted and measured on whole images. Whether that transfers is an empirical question, so each fold's probe
(fitted and calibrated exactly as for the whole-image numbers, on that fold's training side only) scores the
held-out family's images and the held-out real photos twice: whole, and through the face crops the analyzer
would cut. An image's face-crop score is its highest crop score (what the analyzer reports) or, for
comparison, its largest face's. Both are compared with the whole-image score on the same images: those with
at least one face the analyzer would score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from civicshield.analyzers.ml.clip_head import Thresholds
from civicshield.evaluation.dataset import LabelledItem
from civicshield.evaluation.embeddings import EmbeddingCache
from civicshield.evaluation.face_crops import FaceCropCache, ImageFaces
from civicshield.evaluation.probe import (
    CalibratedProbe,
    Candidate,
    FeatureSet,
    fit_calibrated,
)
from civicshield.evaluation.splits import Fold
from civicshield.evaluation.summary import GroupRow, Summary, by_group, summarize

__all__ = [
    "FaceCropResult",
    "ThresholdRates",
    "evaluate_face_crops",
    "faces_of_test_images",
    "run_face_logo",
]

Tick = Callable[[str, int, int], None]
SCORES = ("whole image", "face crops (max)", "largest face")


@dataclass(frozen=True)
class ThresholdRates:
    """How often one score reaches the ``detector.synthetic`` threshold, among real and among AI."""

    name: str
    n_real: int
    real_flagged: float
    n_ai: int
    ai_caught: float


@dataclass(frozen=True)
class FaceCropResult:
    """Every fold's test scores of one probe variant, pooled; ``index`` refers to rows of the item list.

    Per test image: the whole-image logit and probability, and (NaN where no face was scored) the highest
    and the largest face's crop logit and probability. Per scored crop: its probability and ``owner``, the
    position in ``index`` of the image it came from."""

    name: str
    index: np.ndarray
    fold: tuple[str, ...]
    logits: dict[str, np.ndarray]
    probabilities: dict[str, np.ndarray]
    crop_probability: np.ndarray
    owner: np.ndarray

    def labels(self, items: Sequence[LabelledItem]) -> np.ndarray:
        return np.array([items[i].positive for i in self.index])

    @property
    def has_face(self) -> np.ndarray:
        result: np.ndarray = np.isfinite(self.logits["face crops (max)"])
        return result

    def summaries(self, items: Sequence[LabelledItem]) -> list[tuple[str, Summary]]:
        """Whole image on every test image, then the three scores on the images with a scored face."""
        y, face = self.labels(items), self.has_face
        rows = [
            (
                "whole image, all test images",
                summarize(y, self.logits[SCORES[0]], self.probabilities[SCORES[0]]),
            )
        ]
        for name in SCORES:
            summary = summarize(y[face], self.logits[name][face], self.probabilities[name][face])
            rows.append((f"{name}, images with a face", summary))
        return rows

    def per_family(self, items: Sequence[LabelledItem], score: str) -> list[GroupRow]:
        face = self.has_face
        groups = [items[i].family for i in self.index[face]]
        y = self.labels(items)[face]
        return by_group(y, self.logits[score][face], groups, self.probabilities[score][face])

    def at_threshold(self, items: Sequence[LabelledItem], thresholds: Thresholds) -> list[ThresholdRates]:
        """Share of real / AI images (with a face) at or above the synthetic threshold for each score,
        and the same per face crop (the analyzer emits one ``detector.synthetic`` finding per such face)."""
        y, face, cut = self.labels(items), self.has_face, thresholds.synthetic
        rows = []
        for name in SCORES:
            p = self.probabilities[name]
            real, ai = p[face & ~y], p[face & y]
            rows.append(
                ThresholdRates(
                    name, real.size, float(np.mean(real >= cut)), ai.size, float(np.mean(ai >= cut))
                )
            )
        crop_y = y[self.owner]
        real, ai = self.crop_probability[~crop_y], self.crop_probability[crop_y]
        rows.append(
            ThresholdRates(
                "each face crop", real.size, float(np.mean(real >= cut)), ai.size, float(np.mean(ai >= cut))
            )
        )
        return rows


def faces_of_test_images(
    items: Sequence[LabelledItem],
    folds: Sequence[Fold],
    crops: FaceCropCache,
    candidates: Sequence[Candidate],
    tick: Tick | None = None,
) -> dict[int, ImageFaces]:
    """The face crops of every test image (of any fold), encoded for every view the candidates need."""
    rows = sorted({int(i) for fold in folds for i in fold.test})
    views = tuple(dict.fromkeys(v for c in candidates for v in c.recipe.views))
    step = (lambda done, total: tick("face crops", done, total)) if tick else None
    return dict(zip(rows, crops.fill([items[i].path for i in rows], views, step), strict=True))


def _crop_scores(
    probe: CalibratedProbe, candidate: Candidate, faces: ImageFaces
) -> tuple[np.ndarray, np.ndarray]:
    """Logits and probabilities of one image's scored crops under one fold's probe."""
    if not faces.scored:
        return np.zeros(0), np.zeros(0)
    logits = probe.model.logit(candidate.recipe.matrix(faces.crops))
    return logits, probe.platt(logits)


def run_face_logo(
    items: Sequence[LabelledItem],
    folds: Sequence[Fold],
    features: FeatureSet,
    faces: Mapping[int, ImageFaces],
    candidate: Candidate,
) -> FaceCropResult:
    """Fit ``candidate`` in every fold as the whole-image protocol does, and score its test images whole
    and through their face crops."""
    index: list[int] = []
    names: list[str] = []
    logits: dict[str, list[float]] = {name: [] for name in SCORES}
    probs: dict[str, list[float]] = {name: [] for name in SCORES}
    crop_p: list[float] = []
    owner: list[int] = []
    for fold in folds:
        probe = fit_calibrated(items, features, fold.train, candidate)
        whole = probe.model.logit(features.clean[fold.test])
        for row, z_whole, p_whole in zip(fold.test, whole, probe.platt(whole), strict=True):
            image = faces[int(row)]
            z, p = _crop_scores(probe, candidate, image)
            top = int(np.argmax(p)) if p.size else -1
            big = image.largest() if p.size else -1
            for name, (zi, pi) in zip(
                SCORES, ((z_whole, p_whole), _pick(z, p, top), _pick(z, p, big)), strict=True
            ):
                logits[name].append(zi)
                probs[name].append(pi)
            crop_p += p.tolist()
            owner += [len(index)] * p.size
            index.append(int(row))
            names.append(fold.name)
    return FaceCropResult(
        name=candidate.name,
        index=np.array(index, dtype=int),
        fold=tuple(names),
        logits={k: np.array(v) for k, v in logits.items()},
        probabilities={k: np.array(v) for k, v in probs.items()},
        crop_probability=np.array(crop_p),
        owner=np.array(owner, dtype=int),
    )


def _pick(z: np.ndarray, p: np.ndarray, k: int) -> tuple[float, float]:
    return (float(z[k]), float(p[k])) if k >= 0 else (float("nan"), float("nan"))


def _features(
    items: Sequence[LabelledItem],
    folds: Sequence[Fold],
    cache: EmbeddingCache,
    candidate: Candidate,
    tick: Tick | None,
) -> FeatureSet:
    """``build_features``, except that augmented rows are encoded only for items some fold trains on
    (augmented copies only ever join the training side); the others are NaN, so any use of them would
    show. This spares encoding the held-out real photos twice more."""
    paths = [item.path for item in items]
    views = candidate.recipe.views

    def rows(aug: str, which: Sequence[int]) -> np.ndarray:
        step = (lambda done, total: tick(aug, done, total)) if tick else None
        return candidate.recipe.matrix(cache.fill([paths[i] for i in which], aug, views, step))

    clean = rows("none", range(len(items)))
    trained = sorted({int(i) for fold in folds for i in fold.train})
    augmented = {}
    for aug in candidate.augmentations:
        matrix = np.full_like(clean, np.nan)
        matrix[trained] = rows(aug, trained)
        augmented[aug] = matrix
    return FeatureSet(clean=clean, augmented=augmented)


def evaluate_face_crops(
    items: Sequence[LabelledItem],
    folds: Sequence[Fold],
    cache: EmbeddingCache,
    candidates: Sequence[Candidate],
    faces: Mapping[int, ImageFaces],
    tick: Tick | None = None,
) -> list[FaceCropResult]:
    """Every candidate on the same folds, test images and face crops (``faces_of_test_images``)."""
    return [
        run_face_logo(items, folds, _features(items, folds, cache, c, tick), faces, c) for c in candidates
    ]
