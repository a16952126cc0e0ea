"""The probe head: a logistic regression on CLIP features, its calibration and its decision thresholds.

Why one JSON file: the head is a few thousand numbers, and everything that must travel with them — the
feature recipe it was fitted on, the encoder file's sha256 it is tied to, the Platt calibration, the two
thresholds and how they were chosen, the evaluation that measured it — is versioned data that people can
read and diff. The analyzer loads the file only after its sha256 matches the one in the code and the model
card, so an edited or truncated head is a load failure, not a silently different detector.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from civicshield.analyzers.ml.clip_features import FeatureRecipe
from civicshield.errors import AnalyzerUnavailable

__all__ = ["FORMAT", "LIKELY_TARGET_FPR", "ProbeHead", "Thresholds"]

FORMAT = "civicshield.clip_probe/1"


#: The false-positive target of ``likely``: a detector alone says "signs of AI generation" only where
#: about 1 genuine photo in 1,000 scores as high.
LIKELY_TARGET_FPR = 0.001


@dataclass(frozen=True)
class Thresholds:
    """Calibrated-probability cuts, graded (issue 11: a detector alone is a lead, and how strong a lead
    depends on how often it is wrong at that score):

    * ``p >= likely`` reports ``detector.synthetic`` (the verdict "signs of AI generation"), a cut set for
      ``likely_target_fpr`` (0.1 %) false positives on held-out genuine photos;
    * ``synthetic <= p < likely`` reports ``detector.possibly_synthetic`` (the verdict "uncertain: weak signs
      of AI generation"), the cut set for ``synthetic_target_fpr`` (1 %);
    * ``p <= authentic`` reports ``detector.authentic``; between the cuts, the score and no finding.

    A head without ``likely`` (written before the grading) reports ``detector.synthetic`` from ``synthetic``
    up, as it did."""

    synthetic: float
    authentic: float
    synthetic_target_fpr: float
    authentic_target_fnr: float
    likely: float | None = None
    likely_target_fpr: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.authentic < self.synthetic <= 1.0:
            raise ValueError(f"thresholds must satisfy 0 <= authentic < synthetic <= 1: {self}")
        if (self.likely is None) != (self.likely_target_fpr is None):
            raise ValueError(f"a likely threshold needs its false-positive target, and the reverse: {self}")
        if self.likely is not None and not self.synthetic <= self.likely <= 1.0:
            raise ValueError(f"thresholds must satisfy synthetic <= likely <= 1: {self}")

    @property
    def accuses(self) -> float:
        """The cut from which the detector reports ``detector.synthetic``."""
        return self.synthetic if self.likely is None else self.likely

    @property
    def accuses_target_fpr(self) -> float:
        """The false-positive target ``accuses`` was set for."""
        return self.synthetic_target_fpr if self.likely_target_fpr is None else self.likely_target_fpr

    def to_dict(self) -> dict[str, float]:
        out = {
            "synthetic": self.synthetic,
            "authentic": self.authentic,
            "synthetic_target_fpr": self.synthetic_target_fpr,
            "authentic_target_fnr": self.authentic_target_fnr,
        }
        if self.likely is not None and self.likely_target_fpr is not None:
            out |= {"likely": self.likely, "likely_target_fpr": self.likely_target_fpr}
        return out


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out


@dataclass(frozen=True)
class ProbeHead:
    version: str
    encoder_sha256: str
    recipe: FeatureRecipe
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    platt_a: float
    platt_b: float
    thresholds: Thresholds
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.weights.shape[0]
        if self.mean.shape != (n,) or self.scale.shape != (n,) or self.weights.ndim != 1:
            raise ValueError("head arrays disagree in length")
        if not (np.isfinite(self.weights).all() and np.isfinite(self.mean).all()) or not np.any(self.weights):
            raise ValueError("head weights must be finite and not all zero")
        if (self.scale <= 0).any():
            raise ValueError("head scales must be positive")

    def logit(self, features: np.ndarray) -> np.ndarray:
        """The uncalibrated probe logit for a ``(n, d)`` or ``(d,)`` feature array."""
        x = np.asarray(features, dtype=np.float64)
        if x.shape[-1] != self.weights.shape[0]:
            raise ValueError(f"head expects {self.weights.shape[0]} features, got {x.shape[-1]}")
        z: np.ndarray = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return z

    def probability(self, features: np.ndarray) -> np.ndarray:
        """Calibrated P(synthetic)."""
        return _sigmoid(self.platt_a * self.logit(features) + self.platt_b)

    def to_dict(self) -> dict[str, Any]:
        def floats(a: np.ndarray) -> list[float]:
            return [float(f"{v:.8g}") for v in a.tolist()]

        return {
            "format": FORMAT,
            "version": self.version,
            "encoder_sha256": self.encoder_sha256,
            "recipe": self.recipe.to_dict(),
            "calibration": {"method": "platt", "a": self.platt_a, "b": self.platt_b},
            "thresholds": self.thresholds.to_dict(),
            "info": dict(self.info),
            "bias": self.bias,
            "mean": floats(self.mean),
            "scale": floats(self.scale),
            "weights": floats(self.weights),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ProbeHead:
        if raw.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file (format {raw.get('format')!r})")
        cal, thr = raw["calibration"], raw["thresholds"]
        return cls(
            version=str(raw["version"]),
            encoder_sha256=str(raw["encoder_sha256"]),
            recipe=FeatureRecipe.from_dict(raw["recipe"]),
            mean=np.asarray(raw["mean"], dtype=np.float64),
            scale=np.asarray(raw["scale"], dtype=np.float64),
            weights=np.asarray(raw["weights"], dtype=np.float64),
            bias=float(raw["bias"]),
            platt_a=float(cal["a"]),
            platt_b=float(cal["b"]),
            thresholds=Thresholds(**{k: float(v) for k, v in thr.items()}),
            info=dict(raw.get("info", {})),
        )

    @classmethod
    def load(cls, path: Path, *, what: str = "clip_detector") -> ProbeHead:
        """Parse a head file; any malformation is ``AnalyzerUnavailable`` naming the file."""
        try:
            return cls.from_dict(json.loads(path.read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AnalyzerUnavailable(f"{what}: probe head {path.name} is unreadable: {exc}") from exc

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
