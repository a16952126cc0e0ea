"""Face crops for the leave-one-generator-out measurement: the same crops, hence the same probabilities, as
the faces analyzer; and ``train face-crops`` end to end on a few development images (read in place)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from civicshield.analyzers.ml.clip import ClipDetector
from civicshield.analyzers.ml.clip_head import Thresholds
from civicshield.analyzers.ml.faces import FacesAnalyzer
from civicshield.cli.evaluate import register
from civicshield.evaluation.dataset import LabelledItem
from civicshield.evaluation.embeddings import EmbeddingCache
from civicshield.evaluation.face_crops import FaceCropCache
from civicshield.evaluation.face_logo import SCORES, FaceCropResult
from civicshield.evaluation.face_report import REAL
from civicshield.evaluation.logistic import sigmoid
from civicshield.media import Media


def _rows(dev_images: list[dict[str, str]], label: str, key: str, value: str, n: int) -> list[dict[str, str]]:
    return [r for r in dev_images if r["label"] == label and value in r[key]][:n]


def test_crops_score_as_the_faces_analyzer_scores_them(
    tmp_path: Path, dev_set: Path, dev_images: list[dict[str, str]]
) -> None:
    """The shipped head on the cached crop embeddings gives the probabilities the analyzer reports."""
    row = _rows(dev_images, "ai", "generator", "FaceChain", 1)[0]
    path = dev_set / row["path"]
    detector = ClipDetector.load()
    crops = FaceCropCache(EmbeddingCache(tmp_path))
    faces = crops.get(path, detector.head.recipe.views)
    signal = FacesAnalyzer.load().analyze(Media.open(path))
    reported = [f["probability"] for f in signal.evidence["faces"] if f["probability"] is not None]
    assert faces.scored == len(reported) >= 1
    assert faces.detected == len(signal.evidence["faces"])
    ours = detector.head.probability(detector.head.recipe.matrix(faces.crops))
    np.testing.assert_allclose(ours, reported, atol=2e-3)
    again = crops.get(path, detector.head.recipe.views)  # from the cache file this time
    assert list(crops.root.rglob("*.npz"))
    np.testing.assert_array_equal(again.sizes, faces.sizes)
    np.testing.assert_allclose(again.crops[0]["resize"].pooled, faces.crops[0]["resize"].pooled)
    assert again.sizes[again.largest()] == faces.sizes.max()


def test_an_image_without_a_face_has_no_crops(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("RGB", (320, 240), (120, 130, 140)).save(blank)
    faces = FaceCropCache(EmbeddingCache(tmp_path / "cache")).get(
        blank, ClipDetector.load().head.recipe.views
    )
    assert (faces.detected, faces.scored) == (0, 0)
    with pytest.raises(ValueError, match="no scored face"):
        faces.largest()


def _result(
    logits: list[float], faces: list[list[float]], labels: list[bool]
) -> tuple[FaceCropResult, list[LabelledItem]]:
    """A pooled result by hand: one whole-image logit per image and its face-crop logits (probability =
    sigmoid of the logit, as a Platt scaling with a = 1, b = 0)."""
    items = [LabelledItem(Path(f"{i}.jpg"), y, "g" if y else None) for i, y in enumerate(labels)]
    top = [max(f) if f else np.nan for f in faces]
    first = [f[0] if f else np.nan for f in faces]
    flat = [z for f in faces for z in f]
    result = FaceCropResult(
        name="hand",
        index=np.arange(len(items)),
        fold=("g",) * len(items),
        logits={SCORES[0]: np.array(logits), SCORES[1]: np.array(top), SCORES[2]: np.array(first)},
        probabilities={k: sigmoid(np.array(v)) for k, v in zip(SCORES, (logits, top, first), strict=True)},
        crop_probability=sigmoid(np.array(flat)),
        owner=np.array([i for i, f in enumerate(faces) for _ in f]),
    )
    return result, items


def test_face_subset_and_threshold_shares() -> None:
    result, items = _result(
        logits=[2.0, -1.0, 3.0, -2.0, 0.5],
        faces=[[1.0, -3.0], [], [-2.0], [0.2, 2.5], [-1.0]],
        labels=[True, True, True, False, False],
    )
    summaries = dict(result.summaries(items))
    assert summaries["whole image, all test images"].n_ai == 3
    assert summaries["face crops (max), images with a face"].n_ai == 2  # the second AI image has no face
    assert summaries["face crops (max), images with a face"].n_real == 2
    # best faces: AI 1.0 and -2.0, real 2.5 and -1.0: one pair of four ranked right
    assert summaries["face crops (max), images with a face"].auc == pytest.approx(0.25)
    assert summaries["whole image, images with a face"].auc == pytest.approx(1.0)
    rates = {r.name: r for r in result.at_threshold(items, Thresholds(0.6, 0.3, 0.05, 0.05))}
    assert rates["face crops (max)"].real_flagged == pytest.approx(0.5)  # sigmoid(2.5) >= 0.6
    assert rates["face crops (max)"].ai_caught == pytest.approx(0.5)  # sigmoid(1.0) >= 0.6
    assert rates["largest face"].real_flagged == 0.0  # "largest" here is the first: 0.2 -> 0.55
    crops = rates["each face crop"]
    assert (crops.n_real, crops.n_ai) == (3, 3)
    assert crops.real_flagged == pytest.approx(1 / 3) and crops.ai_caught == pytest.approx(1 / 3)


@pytest.fixture
def app() -> typer.Typer:
    cli = typer.Typer()
    register(cli)
    return cli


def test_train_face_crops_end_to_end(
    app: typer.Typer, tmp_path: Path, dev_set: Path, dev_images: list[dict[str, str]]
) -> None:
    ai = [
        r
        for generator in ("FaceChain", "Stable Diffusion v1.x", "Hunyuan-DiT + IP", "SDXL-Turbo")
        for r in _rows(dev_images, "ai", "generator", generator, 3)
    ]
    real = [
        r
        for source in ("serengil/deepface", "Linzaer/", "davisking/dlib", "YadiraF/DECA")
        for r in _rows(dev_images, "real", "source_repo", source, 3)
    ]
    lines = ["path,label,generator,source_repo"]
    lines += [f"{dev_set / r['path']},{r['label']},{r['generator']},{r['source_repo']}" for r in ai + real]
    manifest = tmp_path / "tiny.csv"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = tmp_path / "report"
    args = ["train", "face-crops", str(manifest), "--variant", "baseline", "--report", str(report)]
    result = CliRunner().invoke(app, [*args, "--real-test-share", "0.5"])
    assert result.exit_code == 0, result.output
    assert "face crops (max), images with a face" in result.output
    raw = json.loads((report / "face_crops.json").read_text())
    counts = {c["group"]: c for c in raw["counts"]}
    assert sum(c["images"] for g, c in counts.items() if g != REAL) == len(ai)  # every AI image tested once
    assert counts["FaceChain portraits (SD1.5 fine-tunes)"]["scored"] == 3
    summaries = raw["results"]["baseline"]["summaries"]
    real_tested = counts[REAL]["images"]
    assert summaries["whole image, all test images"]["n_real"] == 4 * real_tested  # once per fold
    with_face = summaries["face crops (max), images with a face"]
    assert with_face["n_real"] == 4 * counts[REAL]["scored"]
    assert with_face["n_ai"] == sum(c["scored"] for g, c in counts.items() if g != REAL)
    crops = next(t for t in raw["results"]["baseline"]["at_threshold"] if t["name"] == "each face crop")
    assert crops["n_real"] == 4 * counts[REAL]["crops"]
    assert (report / "face_crops.md").read_text().startswith("Face crops")
