"""Leave-one-generator-out splits, never random ones.

Why: a random split puts images of the same generator (often the same prompt family, or tiles of one grid)
on both sides, and measures how well a detector recognises generators it has seen. Deployment meets new
generators every month. So each fold holds out one generator *family* (``families.family_of``): the probe is
trained on the other families' AI images and tested on the held-out family's.

Real images need a test side too. A fixed share of real *sources* (a source = one repository or folder of
photos) is held out from every fold's training and serves as the negatives of every fold, so false-positive
rates are always measured on real photos from sources the probe has never seen, and every fold's numbers are
comparable. Which sources are held out is decided by a hash of their names: stable, and blind to content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from civicshield.evaluation.dataset import LabelledItem

__all__ = ["Fold", "group_kfold", "held_out_real", "logo_folds", "real_group"]


@dataclass(frozen=True)
class Fold:
    """One held-out family: row indices (into the item list) to train on and to test on."""

    name: str
    train: np.ndarray
    test: np.ndarray


def _rank(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def real_group(item: LabelledItem) -> str:
    """The unit real images are split by: their source, or the file itself when no source is known."""
    return item.source or item.path.name


def held_out_real(items: Sequence[LabelledItem], share: float) -> np.ndarray:
    """Indices of the real items held out of all training: whole sources, in hash order, until ``share``
    of the real items is reached (a source is never split)."""
    real = [i for i, item in enumerate(items) if not item.positive]
    by_group: dict[str, list[int]] = {}
    for i in real:
        by_group.setdefault(real_group(items[i]), []).append(i)
    chosen: list[int] = []
    for group in sorted(by_group, key=_rank):
        if len(chosen) >= share * len(real):
            break
        chosen += by_group[group]
    return np.array(sorted(chosen), dtype=int)


def logo_folds(
    items: Sequence[LabelledItem], *, real_test_share: float = 0.3, min_family: int = 1
) -> list[Fold]:
    """One fold per AI family with at least ``min_family`` images (AI items without a generator are always
    trained on, never tested: they cannot be held out by generator)."""
    real_test = held_out_real(items, real_test_share)
    real_test_set = set(real_test.tolist())
    families: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        if item.positive and item.family is not None:
            families.setdefault(item.family, []).append(i)
    folds = []
    for family in sorted(families):
        held = families[family]
        if len(held) < min_family:
            continue
        held_set = set(held)
        train = [i for i in range(len(items)) if i not in held_set and i not in real_test_set]
        folds.append(
            Fold(name=family, train=np.array(train, dtype=int), test=np.array(held + real_test.tolist()))
        )
    return folds


def group_kfold(items: Sequence[LabelledItem], indices: np.ndarray, k: int = 5) -> list[np.ndarray]:
    """Split ``indices`` into ``k`` parts keeping each AI family and each real source whole: the inner folds
    that produce out-of-fold scores for calibration. Each class is spread on its own (largest group first
    into the part with fewest items of that class), so every part has both classes when it can."""
    parts: list[list[int]] = [[] for _ in range(k)]
    for positive in (True, False):
        groups: dict[str, list[int]] = {}
        for i in indices.tolist():
            item = items[i]
            if item.positive is positive:
                key = (item.family or item.path.name) if positive else real_group(item)
                groups.setdefault(key, []).append(i)
        counts = [0] * k
        for key in sorted(groups, key=lambda g: (-len(groups[g]), _rank(g))):
            j = counts.index(min(counts))
            parts[j].extend(groups[key])
            counts[j] += len(groups[key])
    return [np.array(sorted(p), dtype=int) for p in parts if p]
