"""Classical forensics (``ela``, ``noise_residual``, ``spectral``) on images made here.

The splice test builds the classic ELA case: a camera-like JPEG (q90), a patch from another picture
re-compressed at q98 pasted in, the result re-saved at q75 as a social network would. The patch has a
different compression history, so its blocks stand out in the error-level map.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from civicshield.analyzers.forensics import ElaAnalyzer, NoiseResidualAnalyzer, SpectralAnalyzer
from civicshield.analyzers.forensics.base import ForensicAnalyzer, ForensicPolicy
from civicshield.analyzers.forensics.ela import ela_heatmap, error_levels
from civicshield.analyzers.forensics.jpeg import estimate_quality
from civicshield.analyzers.forensics.spectral import grid_peak_ratio
from civicshield.evaluation.metrics import auc_or_nan
from civicshield.media import Media

ANALYZERS: list[type[ForensicAnalyzer]] = [ElaAnalyzer, NoiseResidualAnalyzer, SpectralAnalyzer]
PATCH = (203, 150, 363, 310)  # left, top, right, bottom: not on the 8x8 grid


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _scene(rng: np.random.Generator, size: tuple[int, int] = (512, 512)) -> Image.Image:
    """Smooth colour gradients with sensor-like noise: texture everywhere, no hard edges."""
    h, w = size[1], size[0]
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([120 + 60 * np.sin(3 * x + c) + 40 * np.cos(2 * y - c) for c in range(3)], axis=-1)
    noisy = base + rng.normal(0, 8, base.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


@pytest.fixture(scope="module")
def spliced() -> bytes:
    rng = np.random.default_rng(0)
    camera = _decoded(_jpeg(_scene(rng), 90))
    donor = _decoded(_jpeg(_scene(rng).crop((100, 100, 260, 260)), 98))
    camera.paste(donor, PATCH[:2])
    return _jpeg(camera, 75)


@pytest.fixture(scope="module")
def photo() -> Media:
    data = _jpeg(_scene(np.random.default_rng(5), (640, 480)), 85)
    return Media.from_bytes(data, name="photo.jpg")


def test_ela_heatmap_is_hot_on_the_pasted_patch(spliced: bytes) -> None:
    heat = ela_heatmap(_decoded(spliced))
    inside = np.zeros(heat.shape, dtype=bool)
    inside[PATCH[1] // 8 : PATCH[3] // 8 + 1, PATCH[0] // 8 : PATCH[2] // 8 + 1] = True
    hottest = np.argsort(heat.ravel())[-int(heat.size * 0.05) :]
    share = inside.ravel()[hottest].mean()
    assert share >= 0.4, f"{share:.2f} of the hottest blocks in a patch covering {inside.mean():.2f}"
    assert np.median(heat[inside]) > 1.2 * np.median(heat[~inside])


def test_ela_reports_jpeg_and_quality(spliced: bytes) -> None:
    signal = ElaAnalyzer().analyze(Media.from_bytes(spliced, name="spliced.jpg"))
    assert signal.evidence["is_jpeg"] is True
    assert signal.evidence["estimated_quality"] == 75
    assert signal.evidence["standard_tables"] is True
    block = signal.evidence["hottest_block"]
    assert PATCH[0] - 8 <= block["x"] <= PATCH[2] and PATCH[1] - 8 <= block["y"] <= PATCH[3]


def test_ela_on_png_says_not_jpeg_and_halves_confidence() -> None:
    buf = io.BytesIO()
    _scene(np.random.default_rng(2)).save(buf, format="PNG")
    policy = ForensicPolicy(version="t", dev_auc=0.7, center=0.0, scale=1.0)
    signal = ElaAnalyzer(policy).analyze(Media.from_bytes(buf.getvalue(), name="x.png"))
    assert signal.evidence["is_jpeg"] is False
    assert "estimated_quality" not in signal.evidence
    assert signal.confidence == pytest.approx(policy.confidence / 2)


@pytest.mark.parametrize("quality", [30, 75, 95])
def test_jpeg_quality_estimate(quality: int) -> None:
    image = Image.open(io.BytesIO(_jpeg(_scene(np.random.default_rng(1), (64, 64)), quality)))
    estimate = estimate_quality(image)
    assert estimate is not None and estimate.quality == quality and estimate.standard


@pytest.mark.parametrize("cls", ANALYZERS)
def test_heatmap_is_a_png_of_the_image_size(cls: type[ForensicAnalyzer], photo: Media) -> None:
    signal = cls().analyze(photo)
    assert signal.score is not None and 0.0 <= signal.score <= 1.0
    (artefact,) = signal.artefacts
    assert artefact.media_type == "image/png" and artefact.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(artefact.data)).size == (512, 384)  # 640x480 fitted into 512
    assert not signal.findings


@pytest.mark.parametrize("cls", ANALYZERS)
def test_abstains_on_tiny_and_flat_images(cls: type[ForensicAnalyzer]) -> None:
    tiny = Media.from_bytes(_jpeg(_scene(np.random.default_rng(3), (120, 200)), 90), name="tiny.jpg")
    signal = cls().analyze(tiny)
    assert signal.abstained and "128" in (signal.abstain_reason or "")
    buf = io.BytesIO()
    Image.new("RGB", (300, 300), (90, 90, 90)).save(buf, format="PNG")
    flat = cls().analyze(Media.from_bytes(buf.getvalue(), name="flat.png"))
    assert flat.abstained and "flat" in (flat.abstain_reason or "")


@pytest.mark.parametrize("cls", ANALYZERS)
def test_description_and_evidence_carry_the_measured_auc(cls: type[ForensicAnalyzer], photo: Media) -> None:
    policy = cls.default_policy
    assert f"AUC {policy.dev_auc:.2f}" in cls.description
    signal = cls().analyze(photo)
    assert signal.evidence["dev_auc"] == policy.dev_auc
    assert signal.confidence <= policy.max_confidence
    if abs(policy.dev_auc - 0.5) < policy.chance_margin:
        assert signal.confidence == 0.0 and "chance" in signal.summary.lower()


def test_confidence_follows_auc() -> None:
    def confidence(value: float) -> float:
        return ForensicPolicy(version="t", dev_auc=value, center=0, scale=1).confidence

    assert confidence(0.52) == 0.0 and confidence(0.4) == 0.0
    assert confidence(0.6) == pytest.approx(0.2)
    assert confidence(0.95) == pytest.approx(0.3)


def test_spectral_sees_periodic_upsampling_pattern() -> None:
    """A transposed convolution with stride 8 adds the same 8x8 overlap pattern to every tile."""
    rng = np.random.default_rng(4)
    noise = rng.normal(0, 1, (256, 256))
    pattern = np.tile(rng.normal(0, 1, (8, 8)), (32, 32))
    plain, periodic = grid_peak_ratio(np.stack([noise, noise + 0.3 * pattern]))
    assert plain == pytest.approx(1.0, abs=0.5)
    assert periodic > 3 * plain


def test_auc_counts_ties_as_half() -> None:
    assert auc_or_nan([0.1, 0.2, 0.9, 0.8], [False, False, True, True]) == 1.0
    assert auc_or_nan([0.5, 0.5], [True, False]) == 0.5
    assert auc_or_nan([0.9, 0.1], [False, True]) == 0.0


def test_the_three_measures_share_one_decode_and_get_the_same_answers(
    photo: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An item is decoded once for all three measures (it was three times, with the luminance computed up to
    twice per measure); each answer is the one it gets from a decode of its own."""
    from civicshield.analyzers.forensics import base

    alone = []
    for cls in (ElaAnalyzer, NoiseResidualAnalyzer, SpectralAnalyzer):
        base._last = None  # forget any shared decode: each measure decodes for itself
        alone.append(cls().analyze(photo))
    calls = []
    real = base.decode_image
    monkeypatch.setattr(base, "decode_image", lambda *a, **k: calls.append(1) or real(*a, **k))
    base._last = None
    shared = [cls().analyze(photo) for cls in (ElaAnalyzer, NoiseResidualAnalyzer, SpectralAnalyzer)]
    assert len(calls) == 1
    for one, other in zip(alone, shared, strict=True):
        assert (one.score, one.evidence, one.artefacts[0].data) == (
            other.score,
            other.evidence,
            other.artefacts[0].data,
        )
    item = base.decoded(photo)
    assert not item.rgb.flags.writeable and not item.luma.flags.writeable  # shared: nobody may change them


def test_error_levels_are_the_mean_absolute_channel_difference_of_a_resave() -> None:
    """Against the definition, in integers: Pillow's own re-save at q90, |a - b| averaged over R, G, B."""
    rng = np.random.default_rng(11)
    image = Image.fromarray(rng.integers(0, 256, (61, 83, 3), dtype=np.uint8))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=90)
    resaved = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).astype(np.int64)
    expected = np.abs(np.asarray(image).astype(np.int64) - resaved).sum(axis=2) / 3
    assert np.array_equal(error_levels(image), expected)
