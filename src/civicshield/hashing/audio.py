"""Chromaprint audio fingerprints (the AcoustID algorithm) and a similarity for re-encoded copies.

We feed libchromaprint 16-bit mono PCM at 11025 Hz, the rate it works at internally, so it does no
resampling of its own. Decoding streams through ``media.open_container`` and stops after ``max_seconds``
instead of decoding a three-hour file into memory first.

A raw fingerprint is one 32-bit word per ~0.124 s of audio. Two copies of the same recording
(MP3, Opus, AAC re-encodes, volume changes) keep most bits of aligned words; unrelated audio agrees on about
half. ``compare_fingerprints`` slides one over the other and reports ``1 - bit error rate`` at the best
offset, over at least ``min_overlap`` words, so a clip cut from a longer recording still finds its place.

libchromaprint is a system library loaded through ctypes (pyacoustid's ``chromaprint`` module). When it is
missing, the functions here raise ``AnalyzerUnavailable`` naming the package to install.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import chain
from math import ceil
from types import ModuleType
from typing import Any

import numpy as np

from civicshield.errors import AnalyzerUnavailable, BankFormatError, CorruptMedia, UnsupportedMedia
from civicshield.media import Media, open_container

__all__ = [
    "SAMPLE_RATE",
    "AudioFingerprint",
    "AudioMatch",
    "chromaprint_available",
    "compare_fingerprints",
    "fingerprint_audio",
    "parse_fingerprint",
]

SAMPLE_RATE = 11025
# Chromaprint emits one word per 4096/3 samples at 11025 Hz (frame 4096, overlap 2/3).
SECONDS_PER_WORD = 4096 / 3 / SAMPLE_RATE
DEFAULT_MAX_SECONDS = 600.0
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
INSTALL_HINT = (
    "install libchromaprint (Debian/Ubuntu: apt install libchromaprint1; macOS: brew install chromaprint)"
)


@cache
def _chromaprint() -> ModuleType:
    try:
        module = importlib.import_module("chromaprint")
    except ImportError as exc:  # the module raises ImportError when the shared library cannot be loaded
        raise AnalyzerUnavailable(
            f"audio fingerprinting needs libchromaprint: {exc}; {INSTALL_HINT}"
        ) from exc
    return module


def chromaprint_available() -> bool:
    try:
        _chromaprint()
    except AnalyzerUnavailable:
        return False
    return True


@dataclass(frozen=True)
class AudioFingerprint:
    """A Chromaprint fingerprint: ``encoded`` is the compressed base64 AcoustID form (what banks store)."""

    encoded: str
    duration_s: float
    raw: tuple[int, ...] = field(repr=False, compare=False)
    algorithm: int = 1

    @property
    def words(self) -> np.ndarray:
        return np.asarray(self.raw, dtype=np.uint32)

    def to_dict(self) -> dict[str, object]:
        return {"fingerprint": self.encoded, "duration_s": round(self.duration_s, 3), "words": len(self.raw)}


@dataclass(frozen=True)
class AudioMatch:
    """Best alignment of two fingerprints: ``similarity = 1 - bit error rate`` over ``overlap_words``."""

    similarity: float
    offset_words: int
    overlap_words: int
    background: float = 0.5

    @property
    def contrast(self) -> float:
        """How far the best offset stands above the typical one (near 0 for stationary sound)."""
        return self.similarity - self.background

    @property
    def offset_s(self) -> float:
        """Where the second fingerprint starts relative to the first, in seconds."""
        return self.offset_words * SECONDS_PER_WORD

    @property
    def overlap_s(self) -> float:
        return self.overlap_words * SECONDS_PER_WORD


def parse_fingerprint(encoded: str, duration_s: float = 0.0) -> AudioFingerprint:
    """Decode a stored base64 fingerprint; ``BankFormatError`` when it is not one."""
    text = encoded.strip()
    if not _BASE64URL.fullmatch(text):
        raise BankFormatError(f"not a Chromaprint fingerprint (want URL-safe base64): {text[:40]!r}")
    cp = _chromaprint()
    try:
        raw, algorithm = cp.decode_fingerprint(text.encode("ascii"))
    except (cp.FingerprintError, UnicodeEncodeError) as exc:
        raise BankFormatError(f"not a Chromaprint fingerprint: {text[:40]!r}") from exc
    if not raw:
        raise BankFormatError(f"Chromaprint fingerprint decodes to nothing: {text[:40]!r}")
    return AudioFingerprint(text, duration_s or len(raw) * SECONDS_PER_WORD, tuple(raw), int(algorithm))


def _pcm_blocks(media: Media, max_samples: int) -> Iterator[bytes]:
    """16-bit mono PCM at ``SAMPLE_RATE``, block by block, stopping after ``max_samples``."""
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    left = max_samples
    with open_container(media) as container:
        frames: Iterator[Any] = container.decode(container.streams.audio[0])
        for frame in chain(frames, [None]):  # None flushes the resampler
            for out in resampler.resample(frame):
                pcm = out.to_ndarray().reshape(-1)[:left]
                left -= pcm.size
                yield pcm.astype("<i2", copy=False).tobytes()
            if left <= 0:
                return


def fingerprint_audio(media: Media, *, max_seconds: float = DEFAULT_MAX_SECONDS) -> AudioFingerprint:
    """Fingerprint the first audio stream (its first ``max_seconds``). Clips shorter than about three seconds
    give an empty fingerprint (``raw == ()``), which matches nothing."""
    if not media.info.has_audio:
        raise UnsupportedMedia(f"{media.name}: has no audio stream")
    cp = _chromaprint()
    fed = 0
    try:
        printer = cp.Fingerprinter()
        printer.start(SAMPLE_RATE, 1)
        for block in _pcm_blocks(media, int(max_seconds * SAMPLE_RATE)):
            printer.feed(block)
            fed += len(block) // 2
        if fed == 0:
            raise CorruptMedia(f"{media.name}: audio stream decodes to no samples")
        encoded = printer.finish().decode("ascii")
        raw, algorithm = cp.decode_fingerprint(encoded.encode("ascii"))
    except cp.FingerprintError as exc:
        raise CorruptMedia(f"{media.name}: Chromaprint could not fingerprint the audio") from exc
    return AudioFingerprint(encoded, fed / SAMPLE_RATE, tuple(raw), int(algorithm))


def compare_fingerprints(
    a: AudioFingerprint, b: AudioFingerprint, *, min_overlap: int = 40, min_coverage: float = 0.8
) -> AudioMatch:
    """``1 - BER`` at the best offset of ``b`` against ``a``, and how much that offset stands out.

    Offsets considered overlap at least ``min_coverage`` of the shorter fingerprint (so one must be mostly
    contained in the other, as a clip is in its source) and at least ``min_overlap`` words when both are
    that long. ``background`` is the median similarity over all those offsets: stationary sound (silence, a
    tone, steady noise) agrees with itself at every offset, a real copy only at one.
    """
    x, y = a.words, b.words
    if x.size == 0 or y.size == 0:
        return AudioMatch(0.0, 0, 0, 0.0)
    need = max(min(min_overlap, x.size, y.size), ceil(min_coverage * min(x.size, y.size)))
    offsets = range(-(y.size - need), x.size - need + 1)
    sims = np.empty(len(offsets))
    sizes = np.empty(len(offsets), dtype=np.int64)
    for i, offset in enumerate(offsets):
        start_x, start_y = max(offset, 0), max(-offset, 0)
        n = min(x.size - start_x, y.size - start_y)
        errors = int(np.bitwise_count(x[start_x : start_x + n] ^ y[start_y : start_y + n]).sum())
        sims[i] = 1.0 - errors / (32.0 * n)
        sizes[i] = n
    best = int(np.argmax(sims))
    return AudioMatch(float(sims[best]), offsets[best], int(sizes[best]), float(np.median(sims)))
