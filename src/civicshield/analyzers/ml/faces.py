"""``faces``: find faces (YuNet), describe them (SFace embeddings), and score each face crop with the CLIP
image detector.

Why faces separately: a face swap or an inserted face changes a small part of a picture, which a
whole-image detector averages away; scoring a crop around each face looks where manipulation of people
happens. The SFace embeddings go into the evidence (rounded) so that later code can compare them with a
watchlist of protected people; ``face_embeddings`` gives them to library callers directly.

What it cannot tell: "no face found" is an abstention, never evidence either way. Face crops are smaller
and tighter than the whole images the CLIP detector was measured on, so its probabilities on crops are
weaker evidence (``FacePolicy.confidence``); only a crop at or above the detector's own synthetic
threshold becomes a finding, and only ``detector.possibly_synthetic`` (weak signs: the cut was measured on
whole pictures, not on faces). A low score on a face is not proof it is real, so no ``detector.authentic``
finding is ever emitted here. Faces under ``min_score_px`` are listed, not scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Self

import numpy as np
from PIL import Image

from civicshield.analyzers.base import Analyzer
from civicshield.analyzers.ml.faces_clip import ImageScorer, load_clip_scorer
from civicshield.analyzers.ml.faces_detect import DetectionPolicy, Face, FaceModels, face_crop
from civicshield.analyzers.ml.faces_draw import draw_faces
from civicshield.media import Media, MediaKind, decode_image
from civicshield.settings import Option, Settings
from civicshield.signals import Artefact, Finding, Signal

__all__ = ["FOUND", "POSSIBLY_SYNTHETIC", "FacePolicy", "FaceScore", "FacesAnalyzer", "score_faces"]

FOUND = "faces.found"
# Weak signs only (issue 11): the whole-image detector's cut was measured on whole pictures, not on face
# crops, so a face crop above it is never "signs of AI generation" (``detector.synthetic``) on its own.
POSSIBLY_SYNTHETIC = "detector.possibly_synthetic"
DETECTOR = "faces+clip"


@dataclass(frozen=True)
class FacePolicy:
    """Named, versioned numbers of the faces analyzer."""

    version: str = "faces-2026.11.1"
    detection: DetectionPolicy = field(default_factory=DetectionPolicy)
    min_score_px: int = 64  # smaller faces upscale to mush at the detector's 512 px canonical size
    crop_margin: float = 1.6  # crop side / face box side: the face plus hair line, ears and chin
    max_scored_faces: int = 8  # bounds CLIP calls per image (faces come largest score first)
    confidence: float = 0.3  # crops are outside the whole-image domain the detector was measured on
    embedding_decimals: int = 4


@dataclass(frozen=True)
class FaceScore:
    """A face and the detector's probability on its crop (``None`` with ``skipped`` saying why)."""

    face: Face
    probability: float | None
    skipped: str | None = None

    def to_evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "probability": None if self.probability is None else round(self.probability, 4)
        }
        if self.skipped:
            out["not_scored"] = self.skipped
        return out


def score_faces(
    image: Image.Image, faces: Sequence[Face], scorer: ImageScorer, policy: FacePolicy
) -> list[FaceScore]:
    """The scorer's probability on a square crop around each face big enough to score."""
    out: list[FaceScore] = []
    for face in faces:
        if face.size < policy.min_score_px:
            out.append(FaceScore(face, None, f"face under {policy.min_score_px} px"))
        elif sum(s.probability is not None for s in out) >= policy.max_scored_faces:
            out.append(FaceScore(face, None, f"only the first {policy.max_scored_faces} faces are scored"))
        else:
            out.append(FaceScore(face, scorer.score(face_crop(image, face, policy.crop_margin))))
    return out


class FacesAnalyzer(Analyzer):
    name = "faces"
    description = (
        "Finds faces (YuNet), records their boxes, landmarks and SFace embeddings, and scores a crop around "
        "each face with the CLIP image detector. 'No face found' is an abstention; only a face crop at or "
        "above the detector's synthetic threshold is a finding."
    )
    kinds = frozenset({MediaKind.IMAGE})
    options = MappingProxyType(
        {
            "max_faces": Option(
                "max_scored_faces",
                "Most faces scored per image, largest first (bounds the time per image).",
            ),
            "min_face_px": Option(
                "min_score_px",
                "Smallest face side, in pixels, worth scoring (smaller faces are only counted).",
            ),
        }
    )

    def __init__(
        self, models: FaceModels, scorer: ImageScorer | str, policy: FacePolicy | None = None
    ) -> None:
        self.models = models
        self.scorer = scorer  # a reason string where the CLIP detector is unavailable
        self.policy = policy or FacePolicy()

    @classmethod
    def load(cls, policy: FacePolicy | None = None, scorer: ImageScorer | str | None = None) -> Self:
        """Verified face models (``AnalyzerUnavailable`` if missing or altered) and the shared CLIP scorer."""
        policy = policy or FacePolicy()
        models = FaceModels.load(cls.name, policy.detection)
        return cls(models, load_clip_scorer() if scorer is None else scorer, policy)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls.load(cls.configured(FacePolicy(), settings))

    def analyze(self, media: Media) -> Signal:
        image = decode_image(media, mode="RGB")
        rgb = np.asarray(image, dtype=np.uint8)
        faces = self.models.detect(rgb)
        evidence: dict[str, Any] = {"policy": self.policy.version, "models": self.models.version}
        if not faces:
            return Signal.abstain(self.name, "no face found", evidence=evidence)
        scores = self._scores(image, faces)
        evidence["faces"] = [self._face_evidence(rgb, s) for s in scores]
        found = Finding(FOUND, f"{len(faces)} face(s) found", {"count": len(faces)})
        if isinstance(self.scorer, str):
            evidence["scorer_unavailable"] = self.scorer
            reason = f"{len(faces)} face(s) found, none scored: {self.scorer}"
            return Signal.abstain(
                self.name,
                reason,
                findings=[found],
                evidence=evidence,
                artefacts=[self._drawing(image, faces)],
            )
        return self._scored(image, faces, scores, found, evidence, self.scorer)

    def _scores(self, image: Image.Image, faces: list[Face]) -> list[FaceScore]:
        if isinstance(self.scorer, str):
            return [FaceScore(f, None, "no detector") for f in faces]
        return score_faces(image, faces, self.scorer, self.policy)

    def _scored(
        self,
        image: Image.Image,
        faces: list[Face],
        scores: list[FaceScore],
        found: Finding,
        evidence: dict[str, Any],
        scorer: ImageScorer,
    ) -> Signal:
        scored = [s for s in scores if s.probability is not None]
        evidence.update(scorer=scorer.version, synthetic_threshold=scorer.synthetic_threshold)
        if not scored:
            reason = f"{len(faces)} face(s) found, all under {self.policy.min_score_px} px: none scored"
            return Signal.abstain(
                self.name,
                reason,
                findings=[found],
                evidence=evidence,
                artefacts=[self._drawing(image, faces)],
            )
        flagged = [s for s in scored if (s.probability or 0.0) >= scorer.synthetic_threshold]
        top = max(scored, key=lambda s: s.probability or 0.0)
        p = float(top.probability or 0.0)
        return Signal(
            analyzer=self.name,
            score=p,
            confidence=self.policy.confidence,
            summary=(
                f"{len(faces)} face(s); highest face-crop probability of AI generation {p:.2f} "
                f"(face {top.face.index}); {len(flagged)} at or above {scorer.synthetic_threshold:.2f}"
            ),
            findings=(found, *(self._synthetic(s, scorer) for s in flagged)),
            evidence=evidence,
            artefacts=(self._drawing(image, faces, frozenset(s.face.index for s in flagged)),),
        )

    def _face_evidence(self, rgb: np.ndarray, score: FaceScore) -> dict[str, Any]:
        embedding = self.models.embed(rgb, score.face)
        return {
            **score.face.to_evidence(),
            **score.to_evidence(),
            "embedding": embedding.rounded(self.policy.embedding_decimals),
        }

    def _synthetic(self, score: FaceScore, scorer: ImageScorer) -> Finding:
        p = float(score.probability or 0.0)
        return Finding(
            POSSIBLY_SYNTHETIC,
            f"face {score.face.index}: CLIP detector probability {p:.2f} of AI generation on the face crop, "
            f"at or above its threshold {scorer.synthetic_threshold:.2f}",
            {
                "detector": DETECTOR,
                "face": score.face.index,
                "probability": round(p, 4),
                "threshold": scorer.synthetic_threshold,
                "model_version": scorer.version,
            },
        )

    def _drawing(
        self, image: Image.Image, faces: list[Face], flagged: frozenset[int] = frozenset()
    ) -> Artefact:
        return Artefact(
            "faces.png",
            "image/png",
            draw_faces(image, faces, flagged),
            caption="Detected faces, numbered as in the evidence (red: at or above the detector's threshold)",
        )
