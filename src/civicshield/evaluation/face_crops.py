"""Face crops of labelled images, cut exactly as the faces analyzer cuts them, encoded once and cached.

Why through the analyzer's own functions: a face-crop accuracy is only the analyzer's accuracy if the crops
are the ones it scores. So detection is ``FaceModels.detect`` on ``decode_image(media, mode="RGB")`` (as in
``FacesAnalyzer.analyze``), and which faces are scored and how each is cut (minimum size, at most
``max_scored_faces``, ``face_crop`` with the policy's margin) is ``faces.score_faces`` itself: a recording
``ImageScorer`` stands in for the CLIP detector and keeps the crops it is handed. Each crop then goes
through what ``ClipDetector.score_image`` does before its head (``canonical``, the recipe's views, the
encoder), and the encoder outputs are kept, so that every leave-one-generator-out fold can apply its own
probe to them.

Crops do not depend on the fold, so they are encoded once per image and stored beside the whole-image
embeddings, keyed by the image's sha256 and by a digest of the face policy and the face models' versions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from civicshield.analyzers.ml.clip_features import OUTPUTS, ViewEmbeddings
from civicshield.analyzers.ml.clip_views import View, canonical, render
from civicshield.analyzers.ml.faces import FacePolicy, score_faces
from civicshield.analyzers.ml.faces_detect import FaceModels
from civicshield.evaluation.embeddings import EmbeddingCache
from civicshield.media import Media, decode_image

__all__ = ["FaceCropCache", "ImageFaces", "face_crops"]


@dataclass(frozen=True)
class ImageFaces:
    """What the faces analyzer would score in one image: how many faces it found, and for each face it
    would score (in its order) the face's size in pixels and the encoder outputs of the crop's views."""

    detected: int
    sizes: np.ndarray
    crops: list[dict[str, ViewEmbeddings]] = field(default_factory=list)

    @property
    def scored(self) -> int:
        return len(self.crops)

    def largest(self) -> int:
        """Position of the largest scored face (the first one on a tie)."""
        if not self.crops:
            raise ValueError("no scored face")
        return int(np.argmax(self.sizes))


class _CropRecorder:
    """An ``ImageScorer`` that keeps the crops the faces analyzer hands it instead of scoring them."""

    version = "crop-recorder"
    synthetic_threshold = 1.0
    authentic_threshold = 0.0

    def __init__(self) -> None:
        self.crops: list[Image.Image] = []

    def score(self, image: Image.Image) -> float:
        self.crops.append(image)
        return 0.0

    def domain_reason(self, image: Image.Image) -> str | None:
        return None


def face_crops(
    media: Media, models: FaceModels, policy: FacePolicy
) -> tuple[int, list[float], list[Image.Image]]:
    """Faces found, then the size and crop of each face the analyzer would score, in its order."""
    image = decode_image(media, mode="RGB")
    faces = models.detect(np.asarray(image, dtype=np.uint8))
    recorder = _CropRecorder()
    scores = score_faces(image, faces, recorder, policy)
    sizes = [s.face.size for s in scores if s.probability is not None]
    if len(sizes) != len(recorder.crops):
        raise RuntimeError("score_faces scored a different number of faces than it cropped")
    return len(faces), sizes, recorder.crops


def _key(name: str, output: str) -> str:
    return f"{name}.{output}"


class FaceCropCache:
    """Encode-once storage of ``ImageFaces`` per image sha256 (under the embedding cache's folder)."""

    def __init__(
        self, cache: EmbeddingCache, policy: FacePolicy | None = None, models: FaceModels | None = None
    ) -> None:
        self.cache = cache
        self.policy = policy or FacePolicy()
        self._models = models

    @property
    def models(self) -> FaceModels:
        if self._models is None:
            self._models = FaceModels.load("face-crop evaluation", self.policy.detection)
        return self._models

    @property
    def root(self) -> Path:
        digest = hashlib.sha256(f"{self.policy!r}|{self.models.version}".encode()).hexdigest()[:16]
        return self.cache.root / "faces" / digest

    def get(self, path: Path, views: Sequence[View]) -> ImageFaces:
        media = Media.open(path)
        file = self.root / media.sha256[:2] / f"{media.sha256}.npz"
        if file.is_file():
            found = self._load(file, views)
            if found is not None:
                return found
        faces = self._compute(media, views)
        self._save(file, faces)
        return faces

    def _load(self, file: Path, views: Sequence[View]) -> ImageFaces | None:
        with np.load(file) as npz:
            sizes = npz["sizes"]
            if sizes.size and any(_key(v.key, "pooled") not in npz for v in views):
                return None
            crops = [
                {v.key: ViewEmbeddings(*(npz[_key(v.key, o)][i] for o in OUTPUTS)) for v in views}
                for i in range(sizes.size)
            ]
            return ImageFaces(int(npz["detected"]), sizes, crops)

    def _compute(self, media: Media, views: Sequence[View]) -> ImageFaces:
        detected, sizes, crops = face_crops(media, self.models, self.policy)
        if not crops:
            return ImageFaces(detected, np.zeros(0))
        batch = self.cache.encoder.encode(np.stack([render(canonical(c), v) for c in crops for v in views]))
        n = len(views)
        encoded = [
            {
                v.key: ViewEmbeddings(
                    batch.pooled[i * n + j], batch.patch_mean[i * n + j], batch.cls[i * n + j]
                )
                for j, v in enumerate(views)
            }
            for i in range(len(crops))
        ]
        return ImageFaces(detected, np.asarray(sizes, dtype=np.float64), encoded)

    def _save(self, file: Path, faces: ImageFaces) -> None:
        arrays: dict[str, np.ndarray] = {"detected": np.array(faces.detected), "sizes": faces.sizes}
        for key in faces.crops[0] if faces.crops else ():
            for output in OUTPUTS:
                arrays[_key(key, output)] = np.stack([c[key].output(output) for c in faces.crops])
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)  # type: ignore[arg-type]
        tmp.replace(file)

    def fill(
        self, paths: Sequence[Path], views: Sequence[View], tick: Callable[[int, int], None] | None = None
    ) -> list[ImageFaces]:
        out = []
        for i, path in enumerate(paths):
            out.append(self.get(path, views))
            if tick is not None:
                tick(i + 1, len(paths))
        return out
