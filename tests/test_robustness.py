"""Every reference fixture, truncated and byte-flipped, through the whole engine: the only outcomes allowed
are one of our ``MediaError``s or a verdict, and no analyzer may hit an internal error."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from civicshield.errors import MediaError
from civicshield.media import Media
from civicshield.pipeline import Engine
from civicshield.settings import Settings

from .conftest import TESTDATA

_MEDIA_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".tif",
    ".tiff",
    ".gif",
    ".heic",
    ".heif",
    ".avif",
    ".mp4",
    ".mov",
    ".avi",
    ".wav",
    ".mp3",
    ".m4a",
    ".flac",
    ".ogg",
    ".opus",
    ".webm",
    ".mkv",
}
_MAX_BYTES = 3_000_000


def _fixtures() -> list[Path]:
    roots = [
        "c2pa/c2pa-rs/fixtures",
        "c2pa-real",
        "threatexchange/pdq/images",
        "threatexchange/vpdq/videos",
        "watermark/imwatermark",
        "trustmark",
    ]
    files = [
        p
        for r in roots
        for p in sorted((TESTDATA / r).rglob("*"))
        if p.is_file() and p.suffix.lower() in _MEDIA_SUFFIXES and p.stat().st_size <= _MAX_BYTES
    ]
    return files


def _variants(data: bytes, seed: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    flipped = bytearray(data)
    for _ in range(24):
        i = rng.randrange(len(flipped))
        flipped[i] ^= 0xFF
    return {"original": data, "truncated": data[: max(1, len(data) // 2)], "flipped": bytes(flipped)}


# Every fixture goes through the provenance, metadata, watermark and hashing analyzers; the ML detectors and
# forensics (seconds per item) get the small fixtures, which exercise the same decoders.
CORE = ("c2pa", "metadata", "watermark", "phash", "known_fakes", "official_media")
ML = ("speech_detector", "faces", "video_detector", "ela", "noise_residual", "spectral", "clip_detector")
_SMALL = 400_000


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine.from_settings(Settings(data_dir=tmp_path_factory.mktemp("data"), analyzers=CORE))


@pytest.fixture(scope="module")
def ml_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    from civicshield.analyzers.registry import AnalyzerRegistry

    names = tuple(n for n in ML if n in AnalyzerRegistry.discover().names())
    return Engine.from_settings(Settings(data_dir=tmp_path_factory.mktemp("data"), analyzers=names))


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: str(p.relative_to(TESTDATA)))
def test_fixture_and_damaged_variants(path: Path, engine: Engine) -> None:
    _check(path, engine)


def _small_per_format(per_suffix: int = 3) -> list[Path]:
    chosen: dict[str, list[Path]] = {}
    for p in _fixtures():
        if p.stat().st_size <= _SMALL and len(chosen.setdefault(p.suffix.lower(), [])) < per_suffix:
            chosen[p.suffix.lower()].append(p)
    return [p for group in chosen.values() for p in group]


@pytest.mark.parametrize("path", _small_per_format(), ids=lambda p: str(p.relative_to(TESTDATA)))
def test_damaged_small_fixtures_through_ml_detectors(path: Path, ml_engine: Engine) -> None:
    _check(path, ml_engine, variants=("truncated", "flipped"))


def _check(
    path: Path, engine: Engine, variants: tuple[str, ...] = ("original", "truncated", "flipped")
) -> None:
    for variant, data in _variants(path.read_bytes(), seed=len(path.name)).items():
        if variant not in variants:
            continue
        try:
            media = Media.from_bytes(data, name=f"{path.name}:{variant}", limits=engine.settings.limits)
        except MediaError:
            continue
        verdict = engine.analyze(media)
        errors = [
            f.message for s in verdict.signals for f in s.findings if f.code.endswith(".internal_error")
        ]
        assert not errors, f"{variant}: {errors}"
