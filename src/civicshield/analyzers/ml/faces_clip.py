"""The adapter through which the faces and video analyzers ask the CLIP image detector for a probability.

Why an adapter: the detector (``ml/clip.py``, ``ClipDetector.score_image``) is its own analyzer with its own
weights and thresholds. Face crops and video frames reuse it, and they must keep working, abstaining with
the reason, where it cannot load (``onnxruntime`` or its weights missing). Tests of the faces and video
analyzers substitute a fake ``ImageScorer``: that is the seam.

Whole pictures (video frames) are held to the detector's own domain rules (its minimum size and its
screenshot / graphic screen, ``domain_reason``); face crops are not, as ``score_image`` documents.

The detector is loaded once per process and shared (``cache``): it is the largest model we run, and the
faces and video analyzers would otherwise each hold their own copy. Failures are not cached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from PIL import Image

from civicshield.errors import AnalyzerUnavailable

__all__ = ["ClipScorer", "ImageScorer", "load_clip_scorer"]


class ImageScorer(Protocol):
    """Calibrated P(synthetic) of an RGB image, with the detector's own decision thresholds."""

    @property
    def version(self) -> str: ...

    @property
    def synthetic_threshold(self) -> float: ...

    @property
    def authentic_threshold(self) -> float: ...

    def score(self, image: Image.Image) -> float: ...

    def domain_reason(self, image: Image.Image) -> str | None:
        """Why a whole picture (a video frame) is outside what the detector was measured on, or None."""
        ...


@dataclass(frozen=True)
class ClipScorer:
    """``ImageScorer`` over a loaded ``ClipDetector``: its version, its thresholds, its ``score_image``."""

    version: str
    synthetic_threshold: float
    authentic_threshold: float
    score_image: Callable[[Image.Image], float]
    out_of_domain: Callable[[Image.Image], str | None]

    def score(self, image: Image.Image) -> float:
        return float(self.score_image(image))

    def domain_reason(self, image: Image.Image) -> str | None:
        return self.out_of_domain(image)


@cache
def _shared_clip() -> ClipScorer:
    from civicshield.analyzers.ml.clip import ClipDetector
    from civicshield.analyzers.ml.clip_screen import check_screen

    detector = ClipDetector.load()
    thresholds = detector.head.thresholds
    policy = detector.policy

    def out_of_domain(image: Image.Image) -> str | None:
        if min(image.size) < policy.min_short_side:
            return f"{image.width}x{image.height}: under the detector's {policy.min_short_side} px"
        return check_screen(image, policy.screen).reason

    return ClipScorer(
        version=f"clip_detector:{detector.version}",
        synthetic_threshold=float(thresholds.synthetic),
        authentic_threshold=float(thresholds.authentic),
        score_image=detector.score_image,
        out_of_domain=out_of_domain,
    )


def load_clip_scorer() -> ImageScorer | str:
    """The shared CLIP scorer, or why it is unavailable (as text for an abstain reason)."""
    try:
        return _shared_clip()
    except ImportError as exc:
        return f"the CLIP image detector cannot be imported ({exc})"
    except AnalyzerUnavailable as exc:
        return f"the CLIP image detector is unavailable ({exc.message})"
