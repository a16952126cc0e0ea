"""What the classical forensic analyzers share: the policy that carries their measured usefulness, the
measurement they return, and the one ``analyze`` that turns a measurement into a ``Signal``.

Why a shared base: the three measures differ only in the arithmetic. Abstaining on small or flat images,
deriving confidence from the measured AUC, squashing the raw statistic into [0, 1] and drawing the heatmap
are the same for all of them and must stay the same, or fusion would weigh them inconsistently.
"""

from __future__ import annotations

import math
import threading
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Self

import numpy as np
from PIL import Image

from civicshield.analyzers.base import Analyzer
from civicshield.media import Media, MediaKind, decode_image
from civicshield.once import KeyedOnce
from civicshield.report.plots import heatmap_overlay
from civicshield.settings import Option, Settings
from civicshield.signals import Artefact, Signal

__all__ = [
    "Decoded",
    "ForensicAnalyzer",
    "ForensicPolicy",
    "Measurement",
    "block_means",
    "decoded",
    "luminance",
]

MEASURE_COMMAND = ".venv/bin/python -m civicshield.evaluation.forensics ../shared/datasets/dev"


@dataclass(frozen=True)
class ForensicPolicy:
    """Named, versioned constants of one forensic measure, with the dev-set AUC they were measured at.

    ``center`` and ``scale`` map the raw statistic to a score with a logistic: ``center`` is the median of
    the statistic over the dev images (so a typical image scores about 0.5) and ``scale`` its
    inter-quartile range divided by 2. The score keeps the statistic's ranking, so the AUC still applies.
    """

    version: str
    dev_auc: float
    center: float
    scale: float
    measured_with: str = MEASURE_COMMAND
    min_side: int = 128
    max_pixels: int = 25_000_000  # bounds memory: ELA holds a few float copies of the image
    max_confidence: float = 0.3
    chance_margin: float = 0.05  # an AUC within this of 0.5 is reported as chance
    min_texture: float = 0.5  # std of the Laplacian (grey levels) below which an image is flat

    @property
    def confidence(self) -> float:
        """``2 * (AUC - 0.5)`` capped at ``max_confidence``: zero at chance, never more than a weak signal."""
        if self.dev_auc - 0.5 < self.chance_margin:
            return 0.0
        return round(min(self.max_confidence, 2.0 * (self.dev_auc - 0.5)), 3)

    @property
    def usefulness(self) -> str:
        if abs(self.dev_auc - 0.5) < self.chance_margin:
            return f"No better than chance on dev (AUC {self.dev_auc:.2f}): carries no weight"
        if self.dev_auc < 0.5:
            return f"Weak signal that ranks the wrong way on dev (AUC {self.dev_auc:.2f}): carries no weight"
        return f"Weak signal, AUC {self.dev_auc:.2f} on dev"

    def squash(self, statistic: float) -> float:
        z = (statistic - self.center) / self.scale
        return round(1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z)))), 4)


@dataclass(frozen=True)
class Measurement:
    """The raw statistic of one measure, the map a person looks at, and what else it established."""

    statistic: float
    heat: np.ndarray = field(repr=False)
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    caption: str = ""
    confidence_factor: float = 1.0  # below 1 where the measure is known to mean less (ELA on non-JPEG)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma as float64, the channel JPEG compresses most finely."""
    weights = np.array([0.299, 0.587, 0.114])
    return np.asarray(np.asarray(rgb, dtype=np.float64) @ weights, dtype=np.float64)


@dataclass(frozen=True)
class Decoded:
    """An item decoded once for every forensic measure: the RGB picture, its pixels and their luminance
    (read-only arrays: the measures share them)."""

    image: Image.Image
    rgb: np.ndarray = field(repr=False)
    luma: np.ndarray = field(repr=False)
    texture: float = 0.0  # spread of the luminance's Laplacian: near 0 on a flat picture


_last: tuple[str, Decoded] | None = None
_last_lock = threading.Lock()
_decoding = KeyedOnce()


def decoded(media: Media) -> Decoded:
    """The item's decode and luminance, computed once for the three forensic analyzers that read it in a
    row (one item kept: the last one asked for, by sha256)."""
    global _last
    with _decoding.held(media.sha256):  # the measures may run on several threads: one decode
        with _last_lock:
            if media.sha256 and _last is not None and _last[0] == media.sha256:
                return _last[1]
        image = decode_image(media, mode="RGB")
        rgb = np.asarray(image, dtype=np.uint8)
        luma = luminance(rgb)
        rgb.setflags(write=False)
        luma.setflags(write=False)
        found = Decoded(image, rgb, luma, _texture(luma))
        with _last_lock:
            _last = (media.sha256, found)
        return found


def block_means(values: np.ndarray, block: int) -> np.ndarray:
    """Mean of each ``block`` x ``block`` tile (edges that do not fill a tile are dropped)."""
    h, w = values.shape[0] // block * block, values.shape[1] // block * block
    tiles = values[:h, :w].reshape(h // block, block, w // block, block)
    return np.asarray(tiles.mean(axis=(1, 3)), dtype=np.float64)


def _texture(grey: np.ndarray) -> float:
    lap = grey[1:-1, 1:-1] * 4 - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    return float(lap.std())


class ForensicAnalyzer(Analyzer):
    """An image measure with a heatmap. Subclasses set ``name``, ``description``, ``default_policy`` and
    implement ``measure``."""

    kinds = frozenset({MediaKind.IMAGE})
    default_policy: ClassVar[ForensicPolicy]
    options = MappingProxyType(
        {
            "max_pixels": Option(
                "max_pixels",
                "Larger images are not measured (bounds memory: the measures hold float copies).",
            ),
        }
    )

    def __init__(self, policy: ForensicPolicy | None = None) -> None:
        self.policy = policy or self.default_policy

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(cls.configured(cls.default_policy, settings))

    @abstractmethod
    def measure(self, media: Media, item: Decoded) -> Measurement:
        """The raw statistic (higher = more suspicious) and its heatmap for one decoded RGB image."""

    def prepare(self, media: Media) -> Decoded | str:
        """The decoded item, or the reason to abstain (too small, too large, flat)."""
        reason = self._size_reason(media)
        if reason is not None:
            return reason
        item = decoded(media)
        if item.texture < self.policy.min_texture:
            return "image is flat (no texture): nothing to measure"
        return item

    def analyze(self, media: Media) -> Signal:
        item = self.prepare(media)
        if isinstance(item, str):
            return Signal.abstain(self.name, item, evidence=self._policy_evidence())
        m = self.measure(media, item)
        artefact = Artefact(
            f"{self.name}-heatmap.png", "image/png", heatmap_overlay(item.image, m.heat), caption=m.caption
        )
        return Signal(
            analyzer=self.name,
            score=self.policy.squash(m.statistic),
            confidence=round(self.policy.confidence * m.confidence_factor, 3),
            summary=f"{m.summary} ({self.policy.usefulness})",
            evidence={**self._policy_evidence(), "statistic": round(m.statistic, 4), **m.evidence},
            artefacts=(artefact,),
        )

    def _size_reason(self, media: Media) -> str | None:
        w, h = media.info.width or 0, media.info.height or 0
        if min(w, h) < self.policy.min_side:
            return f"image is {w}x{h}: smaller than {self.policy.min_side} px on a side, too small to measure"
        if w * h > self.policy.max_pixels:
            return f"image is {w}x{h}: more than {self.policy.max_pixels} pixels, not measured"
        return None

    def _policy_evidence(self) -> dict[str, Any]:
        p = self.policy
        return {
            "policy": p.version,
            "dev_auc": p.dev_auc,
            "usefulness": p.usefulness,
            "measured_with": p.measured_with,
        }
