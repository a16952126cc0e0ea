"""Chromaprint fingerprints: re-encoded copies of one recording match, other sounds do not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from civicshield.errors import AnalyzerUnavailable, BankFormatError, UnsupportedMedia
from civicshield.hashing import audio
from civicshield.hashing.audio import (
    AudioFingerprint,
    compare_fingerprints,
    fingerprint_audio,
    parse_fingerprint,
)
from civicshield.media import Media

MATCH, CONTRAST = 0.80, 0.15  # MatchPolicy defaults


def fp(data: bytes, name: str = "clip") -> AudioFingerprint:
    return fingerprint_audio(Media.from_bytes(data, name=name))


@pytest.fixture(scope="module")
def original(sample_wav: Path) -> AudioFingerprint:
    return fingerprint_audio(Media.open(sample_wav))


@pytest.mark.parametrize(
    ("fmt", "codec", "rate", "start_s", "gain", "bit_rate"),
    [
        ("mp3", "libmp3lame", 44_100, 0.0, 1.0, 128_000),
        ("mp3", "libmp3lame", 22_050, 0.0, 1.0, 32_000),
        ("ogg", "libopus", 48_000, 0.0, 1.0, 24_000),
        ("ogg", "libopus", 16_000, 7.3, 0.5, 16_000),  # cut, quieter, low bit rate
        ("mp4", "aac", 8_000, 3.0, 1.0, None),
    ],
    ids=["mp3-128k", "mp3-32k", "opus-24k", "opus-cut-quiet", "aac-8khz-cut"],
)
def test_reencoded_copies_match(
    reencode: Callable[..., bytes],
    sample_wav: Path,
    original: AudioFingerprint,
    fmt: str,
    codec: str,
    rate: int,
    start_s: float,
    gain: float,
    bit_rate: int | None,
) -> None:
    copy = fp(reencode(sample_wav, fmt, codec, rate, start_s=start_s, gain=gain, bit_rate=bit_rate))
    m = compare_fingerprints(original, copy)
    assert m.similarity >= 0.9
    assert m.contrast >= 0.25
    assert abs(m.offset_s - start_s) < 0.5


def test_other_recordings_do_not_match(testdata: Path, original: AudioFingerprint) -> None:
    other = fingerprint_audio(Media.open(testdata / "c2pa/c2pa-rs/fixtures/sample1.mp3"))
    m = compare_fingerprints(original, other)
    assert m.similarity < 0.7


def test_stationary_sound_is_rejected_by_contrast(synth_wav: Callable[..., bytes]) -> None:
    t = np.arange(16_000 * 20) / 16_000
    rng = np.random.default_rng(0)
    silence = fp(synth_wav(np.zeros(16_000 * 20)))
    tone = fp(synth_wav(8000 * np.sin(2 * np.pi * 440 * t)))
    noise_a = fp(synth_wav(rng.normal(0, 3000, t.size)))
    noise_b = fp(synth_wav(rng.normal(0, 3000, t.size)))
    for a, b in [(silence, tone), (tone, tone), (noise_a, noise_b)]:
        assert compare_fingerprints(a, b).contrast < CONTRAST


def test_parse_round_trip(original: AudioFingerprint) -> None:
    parsed = parse_fingerprint(original.encoded)
    assert parsed.raw == original.raw
    assert compare_fingerprints(parsed, original).similarity == 1.0


@pytest.mark.parametrize("bad", ["not base64!", "AQAA"])
def test_bad_fingerprints(bad: str) -> None:
    with pytest.raises(BankFormatError):
        parse_fingerprint(bad)


def test_image_has_no_audio(testdata: Path) -> None:
    with pytest.raises(UnsupportedMedia):
        fingerprint_audio(Media.open(testdata / "threatexchange/pdq/images/misc-images/wee.jpg"))


def test_missing_libchromaprint_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, sample_wav: Path) -> None:
    def no_library(name: str) -> None:
        raise ImportError("couldn't find libchromaprint")

    audio._chromaprint.cache_clear()
    monkeypatch.setattr(audio.importlib, "import_module", no_library)
    try:
        assert not audio.chromaprint_available()
        with pytest.raises(AnalyzerUnavailable, match="libchromaprint"):
            fingerprint_audio(Media.open(sample_wav))
    finally:
        monkeypatch.undo()
        audio._chromaprint.cache_clear()
