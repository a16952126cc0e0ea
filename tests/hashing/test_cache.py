"""``media_hashes`` computes each item's hashes once and keeps a bounded number of items."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from civicshield.errors import UsageError
from civicshield.hashing import cache
from civicshield.hashing.cache import MediaHashes, clear_hash_cache, media_hashes
from civicshield.hashing.pdq import PdqHash
from civicshield.media import Media, MediaKind


def png(seed: int) -> Media:
    img = Image.effect_noise((64, 64), 40 + seed).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return Media.from_bytes(buf.getvalue(), name=f"noise-{seed}.png")


def test_hashes_are_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_hash_cache()
    calls = []
    real = cache._compute

    def counting(media: Media) -> cache.MediaHashes:
        calls.append(media.sha256)
        return real(media)

    monkeypatch.setattr(cache, "_compute", counting)
    item = png(1)
    first = media_hashes(item)
    again = media_hashes(Media.from_bytes(item.data, name="renamed.png"))
    assert again is first
    assert calls == [item.sha256]
    assert first.kind is MediaKind.IMAGE
    assert first.pdq is not None


def test_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_hash_cache()
    monkeypatch.setattr(cache, "CACHE_SIZE", 2)
    items = [png(i) for i in range(3)]
    for item in items:
        media_hashes(item)
    assert list(cache._cache) == [items[1].sha256, items[2].sha256]


def test_video_gets_vpdq_and_sound_track_fingerprint(testdata: Path) -> None:
    h = media_hashes(Media.open(testdata / "threatexchange/vpdq/videos/test-padded-dimensions.mp4"))
    assert h.kind is MediaKind.VIDEO
    assert h.vpdq is not None
    assert len(h.vpdq) == 5
    assert h.pdq is None


def test_audio_gets_chromaprint(testdata: Path) -> None:
    h = media_hashes(Media.open(testdata / "c2pa/c2pa-rs/fixtures/sample1.wav"))
    assert h.chromaprint is not None
    assert h.vpdq is None


def test_hashes_as_they_travel_are_read_by_their_one_parser() -> None:
    pdq = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
    hashes = MediaHashes.from_texts({"pdq": (pdq.upper(), 90)}, sha256=" AB" + "cd" * 31 + " ")
    assert hashes.kind is MediaKind.IMAGE and hashes.pdq == PdqHash(pdq, 90)
    assert hashes.sha256 == "ab" + "cd" * 31
    with pytest.raises(UsageError, match=r"(?i)pdq|hex"):
        MediaHashes.from_texts({"pdq": ("not hex", None)})
    with pytest.raises(UsageError):
        MediaHashes.from_texts({"chromaprint": ("***", None)})
