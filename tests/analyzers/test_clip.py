"""``clip_detector``: verified model files, abstentions, and real scores on development images (read in
place from ``../shared/datasets/dev``; never copied into the repository)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from civicshield.analyzers.ml import clip
from civicshield.analyzers.ml.clip import AUTHENTIC, POSSIBLY_SYNTHETIC, SYNTHETIC, ClipDetector
from civicshield.analyzers.ml.clip_encoder import ENCODER, ClipEncoder
from civicshield.analyzers.ml.weights import sha256_of
from civicshield.errors import AnalyzerUnavailable
from civicshield.media import Media, decode_image

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("CIVICSHIELD_DATASETS", ROOT.parent / "shared" / "datasets")).resolve()
DEV = DATASETS / "dev"
REALCAM = DATASETS / "realcam"
HEAD = ROOT / "src" / "civicshield" / "data" / "models" / clip.HEAD_FILE
CARD = HEAD.parent / "MODEL_CARD.md"


@pytest.fixture(scope="module")
def detector() -> ClipDetector:
    return ClipDetector.load()


def _save(img: Image.Image, path: Path) -> Media:
    img.save(path)
    return Media.open(path)


def test_shipped_head_matches_its_published_sha256() -> None:
    assert sha256_of(HEAD) == clip.HEAD_SHA256
    card = CARD.read_text("utf-8")
    assert clip.HEAD_SHA256 in card
    assert ENCODER.sha256 in card


def test_head_was_fitted_on_the_installed_encoder(detector: ClipDetector) -> None:
    assert detector.head.encoder_sha256 == ENCODER.sha256
    t = detector.head.thresholds
    assert 0.0 < t.authentic < t.synthetic < 1.0


def test_altered_head_is_a_load_failure(tmp_path: Path) -> None:
    altered = tmp_path / "head.json"
    altered.write_bytes(HEAD.read_bytes().replace(b'"bias": ', b'"bias": 1'))
    with pytest.raises(AnalyzerUnavailable, match="sha256"):
        ClipDetector.load(head_path=altered)


def test_missing_head_is_a_load_failure(tmp_path: Path) -> None:
    with pytest.raises(AnalyzerUnavailable, match="missing"):
        ClipDetector.load(head_path=tmp_path / "absent.json")


def test_missing_or_altered_encoder_is_a_load_failure() -> None:
    with pytest.raises(AnalyzerUnavailable, match="not installed"):
        ClipEncoder.from_package(source=replace(ENCODER, distribution="civicshield-no-such-dist"))
    with pytest.raises(AnalyzerUnavailable, match="expected 000000"):
        ClipEncoder.from_package(source=replace(ENCODER, sha256="0" * 64))


def test_head_for_another_encoder_is_refused(detector: ClipDetector) -> None:
    with pytest.raises(AnalyzerUnavailable, match="fitted on encoder"):
        ClipDetector(detector.encoder, replace(detector.head, encoder_sha256="f" * 64))


def test_abstains_on_small_images(detector: ClipDetector, tmp_path: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    signal = detector.analyze(_save(Image.fromarray(noise), tmp_path / "small.png"))
    assert signal.abstained
    assert "256" in (signal.abstain_reason or "")


def test_abstains_on_screenshots_and_blank_images(detector: ClipDetector, tmp_path: Path) -> None:
    page = Image.new("RGB", (1000, 700), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle([0, 0, 1000, 60], fill=(40, 80, 160))
    for y in range(80, 680, 26):
        draw.text((20, y), "lorem ipsum dolor sit amet " * 5, fill="black", font=ImageFont.load_default(16))
    shot = detector.analyze(_save(page, tmp_path / "shot.png"))
    assert shot.abstained and "screenshot" in (shot.abstain_reason or "")
    blank = detector.analyze(_save(Image.new("RGB", (512, 512), (90, 90, 90)), tmp_path / "blank.png"))
    assert blank.abstained and "uniform" in (blank.abstain_reason or "")


def _dev_rows() -> list[dict[str, str]]:
    with (DEV / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["modality"] == "image"]
    real = [r for r in rows if r["label"] == "real"][:2]
    ai = [r for r in rows if r["label"] == "ai"][:2]
    return real + ai


def test_scores_development_images_in_place(detector: ClipDetector) -> None:
    if not DEV.is_dir():
        pytest.fail(f"development set not found at {DEV} (set CIVICSHIELD_DATASETS)")
    t = detector.head.thresholds
    for row in _dev_rows():
        media = Media.open(DEV / row["path"])
        signal = detector.analyze(media)
        assert signal.score is not None, signal.abstain_reason
        assert 0.0 <= signal.score <= 1.0
        assert signal.confidence == pytest.approx(max(signal.score, 1 - signal.score), abs=1e-4)
        assert signal.has(SYNTHETIC) == (signal.score >= t.accuses)
        assert signal.has(POSSIBLY_SYNTHETIC) == (t.synthetic <= signal.score < t.accuses)
        assert signal.has(AUTHENTIC) == (signal.score <= t.authentic)
        assert signal.evidence["model_version"] == detector.version
        assert detector.score_image(decode_image(media)) == pytest.approx(signal.score)


def test_findings_follow_the_head_thresholds(detector: ClipDetector) -> None:
    """Graded (issue 11): "signs of AI generation" from the cut that holds 0.1 % false positives, weak signs
    from the 1 % cut up to it, nothing between the cuts, "no sign found" at or below the authentic cut."""
    t = detector.head.thresholds
    assert t.likely is not None and t.likely_target_fpr == 0.001 and t.synthetic_target_fpr == 0.01
    assert t.authentic < t.synthetic < t.likely == t.accuses
    (high,) = detector._findings(t.likely)
    assert high.code == SYNTHETIC
    assert high.detail["threshold"] == t.likely
    assert set(high.detail) == {"detector", "probability", "threshold", "model_version"}
    assert "0.1% false positives" in high.message
    (weak,) = detector._findings(t.synthetic)
    assert weak.code == POSSIBLY_SYNTHETIC
    assert (weak.detail["threshold"], weak.detail["likely_threshold"]) == (t.synthetic, t.likely)
    assert "weak signs only" in weak.message
    assert detector._findings((t.synthetic + t.likely) / 2)[0].code == POSSIBLY_SYNTHETIC
    (low,) = detector._findings(t.authentic)
    assert low.code == AUTHENTIC
    assert detector._findings((t.synthetic + t.authentic) / 2) == []


def test_a_head_without_the_likely_cut_accuses_from_its_synthetic_cut(detector: ClipDetector) -> None:
    """Heads written before the grading (a deployment's registry) keep their one cut."""
    from civicshield.analyzers.ml.clip_head import Thresholds

    t = detector.head.thresholds
    old = Thresholds(t.synthetic, t.authentic, t.synthetic_target_fpr, t.authentic_target_fnr)
    legacy = ClipDetector(detector.encoder, replace(detector.head, thresholds=old))
    (high,) = legacy._findings(t.synthetic)
    assert high.code == SYNTHETIC and high.detail["threshold"] == t.synthetic
    with pytest.raises(ValueError, match="likely"):
        Thresholds(0.9, 0.1, 0.01, 0.05, likely=0.8, likely_target_fpr=0.001)
    with pytest.raises(ValueError, match="target"):
        Thresholds(0.9, 0.1, 0.01, 0.05, likely=0.95)


@pytest.mark.parametrize("size", [12, 16, 24])
@pytest.mark.parametrize("spacing", [20, 32])
def test_screen_check_flags_text_pages(size: int, spacing: int) -> None:
    from civicshield.analyzers.ml.clip_screen import check_screen

    page = Image.new("RGB", (1000, 700), "white")
    draw = ImageDraw.Draw(page)
    for y in range(20, 680, spacing):
        draw.text((20, y), "lorem ipsum dolor sit amet " * 8, fill="black", font=ImageFont.load_default(size))
    assert check_screen(page).out_of_domain


def test_screen_check_leaves_development_photos_alone() -> None:
    from civicshield.analyzers.ml.clip_screen import check_screen

    with (DEV / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["modality"] == "image"][::10]
    flagged = [
        r["path"] for r in rows if check_screen(decode_image(Media.open(DEV / r["path"]))).out_of_domain
    ]
    assert flagged == []


def test_out_of_domain_is_what_analyze_checks(detector: ClipDetector) -> None:
    assert "256" in (detector.out_of_domain(Image.new("RGB", (100, 400))) or "")
    assert "uniform" in (detector.out_of_domain(Image.new("RGB", (512, 512), "white")) or "")
    photo = decode_image(Media.open(DEV / _dev_rows()[0]["path"]))
    assert detector.out_of_domain(photo) is None


def test_development_photos_and_fakes_land_on_their_side(detector: ClipDetector) -> None:
    """The head was fitted on these very images, so this is no accuracy measure (the model card's
    leave-one-generator-out table is): it catches an encoder that computes something else than what the
    head was fitted on, as onnxruntime's saturating int8 kernel did on CPUs without AVX-VNNI."""
    if not DEV.is_dir():
        pytest.fail(f"development set not found at {DEV} (set CIVICSHIELD_DATASETS)")
    t = detector.head.thresholds
    for row in _dev_rows():
        p = detector.score_image(decode_image(Media.open(DEV / row["path"])))
        assert (p >= t.synthetic) if row["label"] == "ai" else (p <= t.authentic), (row["path"], p)


def _held_out_genuine_photos() -> list[Path]:
    """The part of ``datasets/realcam`` the shipped head never saw (whole devices, chosen by hash: the same
    split ``train image-probe --arrivals`` made; its size is recorded in the head)."""
    from civicshield.evaluation.dataset import load_labelled
    from civicshield.evaluation.splits import held_out_real

    if not (REALCAM / "manifest.csv").is_file():
        pytest.fail(f"realcam set not found at {REALCAM} (set CIVICSHIELD_DATASETS)")
    items = load_labelled(REALCAM / "manifest.csv")
    share = 0.35
    return [items[i].path for i in held_out_real(items, share)]


def test_genuine_photos_as_they_arrive_are_rarely_accused(detector: ClipDetector) -> None:
    """Genuine camera and phone photos the head never saw, as stored (HEIC, JPEG, full size, EXIF) and as
    both messaging copies (1600 px q85 and 1280 px q70, no metadata). Issue 11 asks that at most 1 % get
    "signs of AI generation": none does. Weak signs (the 1 % cut) reach one photo of 32, a sand-dune
    landscape, as the model card reports; a head or a decoding change that gives a second genuine photo
    weak signs, or any one of them signs, fails here."""
    from civicshield.analyzers.ml.clip_views import MESSAGING, messaging_copy

    held = _held_out_genuine_photos()
    assert len(held) == detector.head.info["arrivals"]["test"]
    accused: set[str] = set()
    weak: set[str] = set()
    scored = 0
    for path in held:
        stored = Media.open(path)
        image = decode_image(stored)
        copies = [
            Media.from_bytes(messaging_copy(image, *shape), name="c.jpg") for shape in MESSAGING.values()
        ]
        for media in (stored, *copies):
            signal = detector.analyze(media)
            scored += signal.score is not None
            if signal.has(SYNTHETIC):
                accused.add(path.name)
            if signal.has(POSSIBLY_SYNTHETIC):
                weak.add(path.name)
    assert scored >= 0.9 * 3 * len(held)
    assert accused == set()
    assert len(weak) <= 1, weak


def _register_variant(registry_root: Path, version: str, synthetic: float) -> None:
    """The shipped head with another version name and synthetic threshold, registered as a candidate."""
    from civicshield.analyzers.ml.clip_head import ProbeHead
    from civicshield.learning.promotion import Comparison, Tally
    from civicshield.learning.registry import ModelRegistry

    head = ProbeHead.load(HEAD)
    thresholds = replace(
        head.thresholds, synthetic=synthetic, authentic=min(head.thresholds.authentic, synthetic / 2)
    )
    variant = replace(head, version=version, thresholds=thresholds)
    data = (json.dumps(variant.to_dict(), indent=1) + "\n").encode()
    approved = Comparison(
        "shipped", Tally(40, 20, 40, 0), Tally(40, 30, 40, 0), Tally(0, 0, 96, 0), Tally(0, 0, 96, 0)
    )
    ModelRegistry(registry_root).register(
        "clip_detector",
        version,
        model_file=data,
        card="# test\n",
        comparison=approved,
        sha256=hashlib.sha256(data).hexdigest(),
        actor="test",
    )


def test_the_registry_shadow_head_scores_alongside_and_decides_nothing(tmp_path: Path) -> None:
    from civicshield.learning.registry import ModelRegistry
    from civicshield.settings import Settings

    settings = Settings(data_dir=tmp_path)
    registry = ModelRegistry(settings.models_dir)
    _register_variant(settings.models_dir, "fb-1", synthetic=0.01)  # flags nearly everything
    registry.start_shadow("clip_detector", "fb-1", actor="test")
    detector = ClipDetector.from_settings(settings)
    assert detector.version == "clip-probe-2"  # the shipped head still decides
    row = next(r for r in _dev_rows() if r["label"] == "real")
    signal = detector.analyze(Media.open(DEV / row["path"]))
    shadow = signal.evidence["shadow"]
    assert isinstance(shadow, dict)
    assert shadow["model_version"] == "fb-1"
    assert shadow["probability"] == pytest.approx(signal.score, abs=1e-4)  # same weights
    assert shadow["synthetic"] is True  # the shadow would have flagged it ...
    assert not signal.has(SYNTHETIC)  # ... and the decision is the active head's


def test_a_promoted_registry_head_decides_and_an_altered_one_does_not_load(tmp_path: Path) -> None:
    from civicshield.learning.registry import ModelRegistry
    from civicshield.settings import Settings

    settings = Settings(data_dir=tmp_path)
    registry = ModelRegistry(settings.models_dir)
    _register_variant(settings.models_dir, "fb-1", synthetic=0.97)
    registry.start_shadow("clip_detector", "fb-1", actor="test")
    registry.promote("clip_detector", "fb-1", actor="test")
    detector = ClipDetector.from_settings(settings)
    assert detector.version == "fb-1"
    assert detector.head.thresholds.synthetic == 0.97
    assert detector.shadow is None
    entry = registry.get("clip_detector", "fb-1")
    entry.file.write_text(entry.file.read_text().replace('"fb-1"', '"fb-9"'))
    with pytest.raises(AnalyzerUnavailable, match="altered"):
        ClipDetector.from_settings(settings)
