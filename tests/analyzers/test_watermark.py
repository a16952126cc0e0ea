"""The watermark analyzer against the reference encoder/decoder's fixtures (``watermark/imwatermark``)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from civicshield.analyzers.watermark import (
    NO_WATERMARK,
    SD1,
    SDXL,
    WatermarkAnalyzer,
    WatermarkPolicy,
    binomial_tail,
    min_matching_bits,
)
from civicshield.errors import CivicShieldError
from civicshield.media import Media
from civicshield.settings import Settings

WM_DIR = Path("watermark/imwatermark")
SCHEMES = {"sd1_StableDiffusionV1": SD1, "sdxl_48bit": SDXL}


def _manifest(testdata: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((testdata / WM_DIR / "manifest.json").read_text())["records"]
    return [r for r in records if r.get("file")]


def _records() -> list[Any]:
    from tests.conftest import TESTDATA

    path = TESTDATA / WM_DIR / "manifest.json"
    if not path.is_file():
        return []
    return [pytest.param(r, id=f"{r['file'].rsplit('/', 1)[-1]}:{r['scheme']}") for r in _manifest(TESTDATA)]


@pytest.fixture(scope="module")
def analyzer() -> WatermarkAnalyzer:
    return WatermarkAnalyzer.from_settings(Settings())


@pytest.fixture(scope="module")
def signals(testdata: Path, analyzer: WatermarkAnalyzer) -> dict[str, Any]:
    """One analysis per fixture file (each file appears in the manifest once per scheme)."""
    files = {r["file"] for r in _manifest(testdata)}
    return {f: analyzer.analyze(Media.open(testdata / WM_DIR / f)) for f in files}


@pytest.mark.parametrize("record", _records())
def test_agrees_with_reference_decoder(record: dict[str, Any], signals: dict[str, Any]) -> None:
    signal = signals[record["file"]]
    scheme = SCHEMES.get(record["scheme"])
    if scheme is None:  # the README's 32-bit "test" payload is not a generator's: never reported
        assert not signal.has(SD1.code)
        assert not signal.has(SDXL.code)
        return
    ours = signal.evidence["schemes"][scheme.key]
    assert ours["bit_accuracy"] == pytest.approx(record["bit_accuracy"], abs=1.5 / scheme.n_bits)
    if "decoded" in record and len(record["decoded"]) * 4 == scheme.n_bits:  # hex of a bytes payload
        assert ours["payload_hex"] == record["decoded"]
    expected = record["role"] == "watermarked" and record["bit_accuracy"] >= scheme.threshold
    assert signal.has(scheme.code) is expected


def test_png_positives_are_detected_and_q75_jpegs_are_not(testdata: Path, signals: dict[str, Any]) -> None:
    watermarked = [r for r in _manifest(testdata) if r["role"] == "watermarked" and r["scheme"] in SCHEMES]
    pngs = [r for r in watermarked if r["file"].endswith(".png")]
    jpegs = [r for r in watermarked if r["file"].endswith(".q75.jpg")]
    assert len(pngs) == 3
    assert len(jpegs) == 2
    for r in pngs:
        signal = signals[r["file"]]
        assert signal.has(SCHEMES[r["scheme"]].code)
        assert signal.score is not None
        assert signal.score > 0.9
    for r in jpegs:  # the manifest records that JPEG q75 destroys the watermark (chance-level decode)
        assert r["bit_accuracy"] < 0.6
        assert signals[r["file"]].abstained


def test_detection_detail_names_accuracy_threshold_and_payload(signals: dict[str, Any]) -> None:
    signal = signals["peppers__sdxl_48bit.png"]
    (finding,) = signal.findings
    assert finding.code == "watermark.sdxl"
    assert finding.detail["bit_accuracy"] == pytest.approx(47 / 48, abs=1e-3)
    assert finding.detail["threshold"] == pytest.approx(41 / 48, abs=1e-3)
    assert finding.detail["payload_hex"] == "bbec907bb19e"
    json.dumps(signal.to_dict())


def test_negatives_abstain_with_the_reason(signals: dict[str, Any]) -> None:
    signal = signals["negatives/peppers.png"]
    assert signal.abstained
    assert signal.abstain_reason == NO_WATERMARK
    assert set(signal.evidence["schemes"]) == {"sd1", "sdxl"}


@pytest.mark.parametrize(("n_bits", "scheme"), [(136, SD1), (48, SDXL)])
def test_thresholds_follow_from_the_binomial_tail(n_bits: int, scheme: Any) -> None:
    policy = WatermarkPolicy()
    k = min_matching_bits(n_bits, policy.false_alarm_per_scheme)
    assert scheme.n_bits == n_bits
    assert scheme.min_matching_bits == k
    assert binomial_tail(n_bits, k) < policy.false_alarm_per_scheme <= binomial_tail(n_bits, k - 1)
    ones = int(scheme.expected_bits().sum())
    assert max(ones, n_bits - ones) < k  # a constant (all-0 or all-1) decode never reaches it


@pytest.mark.parametrize(
    "relpath",
    [
        "threatexchange/pdq/images/bridge-mods/sharpen-a-little.jpg",
        "threatexchange/pdq/images/bridge-mods/square-512x512.jpg",
        "threatexchange/pdq/images/misc-images/modes/P.png",
        "c2pa/c2pa-rs/fixtures/IMG_0003.jpg",
        "c2pa/c2pa-rs/fixtures/sample1.png",
        "c2pa/c2pa-rs/fixtures/sample1.webp",
    ],
)
def test_extra_negatives_are_not_detected(testdata: Path, analyzer: WatermarkAnalyzer, relpath: str) -> None:
    signal = analyzer.analyze(Media.open(testdata / relpath))
    assert signal.abstained
    assert not signal.findings


def _png(img: np.ndarray | Image.Image) -> bytes:
    buf = io.BytesIO()
    (img if isinstance(img, Image.Image) else Image.fromarray(img)).save(buf, "PNG")
    return buf.getvalue()


def test_round_trip_with_the_reference_encoder(analyzer: WatermarkAnalyzer) -> None:
    from imwatermark import WatermarkEncoder

    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:300, 360:0:-1]
    rgb = np.stack([(x * 0.5 + y * 0.2) % 256, (y * 0.7) % 256, (x * 0.3 + 40) % 256], axis=-1)
    rgb = np.clip(rgb + rng.normal(0, 8, rgb.shape), 0, 255).astype(np.uint8)
    encoder = WatermarkEncoder()
    encoder.set_watermark("bytes", b"StableDiffusionV1")
    bgr = encoder.encode(np.ascontiguousarray(rgb[:, :, ::-1]), "dwtDct")
    marked = analyzer.analyze(Media.from_bytes(_png(bgr[:, :, ::-1]), name="marked.png"))
    assert marked.has("watermark.sd1")
    assert not marked.has("watermark.sdxl")
    assert analyzer.analyze(Media.from_bytes(_png(rgb), name="plain.png")).abstained


def test_alpha_and_palette_conversions_keep_the_watermark(
    testdata: Path, analyzer: WatermarkAnalyzer
) -> None:
    rgba = Image.open(testdata / WM_DIR / "peppers__sdxl_48bit.png").convert("RGBA")
    assert analyzer.analyze(Media.from_bytes(_png(rgba), name="rgba.png")).has("watermark.sdxl")


def test_small_images_abstain_with_the_decoder_limit(analyzer: WatermarkAnalyzer) -> None:
    signal = analyzer.analyze(Media.from_bytes(_png(np.zeros((240, 240, 3), np.uint8)), name="small.png"))
    assert signal.abstained
    assert "256x256" in (signal.abstain_reason or "")


def test_images_over_the_pixel_cap_abstain() -> None:
    capped = WatermarkAnalyzer(WatermarkPolicy(max_pixels=300 * 300))
    signal = capped.analyze(Media.from_bytes(_png(np.zeros((400, 400, 3), np.uint8)), name="big.png"))
    assert signal.abstained
    assert "not decoded" in (signal.abstain_reason or "")


def _damaged(data: bytes) -> list[bytes]:
    out = [data[: len(data) // 2], data[: len(data) // 10]]
    rng = np.random.default_rng(1)
    for _ in range(3):
        flipped = bytearray(data)
        for pos in rng.integers(64, len(data), size=40):
            flipped[pos] ^= 0xFF
        out.append(bytes(flipped))
    return out


@pytest.mark.parametrize("name", ["peppers__sd1_StableDiffusionV1.png", "peppers__sdxl_48bit.q75.jpg"])
def test_damaged_files_give_errors_or_signals(testdata: Path, analyzer: WatermarkAnalyzer, name: str) -> None:
    for data in _damaged((testdata / WM_DIR / name).read_bytes()):
        try:
            signal = analyzer.analyze(Media.from_bytes(data, name=name))
        except CivicShieldError:
            continue
        assert signal.abstained or signal.score is not None


def test_vectorised_decoder_equals_reference_decoder(testdata: Path) -> None:
    """The fast decoder must give the reference decoder's bits exactly, on fixtures and on noise."""
    from civicshield.analyzers.watermark import SD1, SDXL, read_scheme, read_schemes

    images = [
        p for p in sorted((testdata / "watermark" / "imwatermark").rglob("*")) if p.suffix in {".png", ".jpg"}
    ]
    rng = np.random.default_rng(7)
    arrays = [np.ascontiguousarray(np.asarray(Image.open(p).convert("RGB"))[:, :, ::-1]) for p in images]
    arrays += [
        rng.integers(0, 256, (int(h), int(w), 3), dtype=np.uint8) for h, w in rng.integers(256, 600, (3, 2))
    ]
    for bgr in arrays:
        fast = read_schemes(bgr, (SD1, SDXL))
        for reading in fast:
            assert (reading.decoded == read_scheme(bgr, reading.scheme).decoded).all()
