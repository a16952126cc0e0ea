"""vPDQ: a video as a bag of per-frame PDQ hashes, hashed and matched the way ThreatExchange's vPDQ does.

Hashing follows the C++ reference (``vpdq/cpp``): decode every frame, keep frame ``n`` when
``n % int(seconds_per_hash * frame_rate) == 0`` (the average frame rate of the stream), convert it to RGB24
(optionally resized with swscale's area filter, which the ``-128x128`` reference files use) and PDQ it. The
timestamp is ``n / frame_rate``. Selecting by frame number rather than by presentation time is what makes our
frames the same frames partners hash, which matters for exchanging hashes. One hash per second is the
python-threatexchange default and ours.

Matching is the published brute-force comparison (vPDQ README, python-threatexchange
``match_VPDQ_hash_brute``): drop repeated hashes, drop frames of quality below 50, and count the query frames
that have some target frame within Hamming distance 31, and vice versa. The C++ ``match-hashes-brute`` tool
differs in two ways: it keeps repeated frames and compares with ``< 31``; ``unique=False, distance=30``
reproduces it.

A limit of sampling one frame per second, measured on the reference videos: chair-19-sd-bar and
chair-22-sd-sepia-bar show the same footage shifted by 111 frames (3.7 s). Hashing every frame they match
85.8 % / 100 %; at one hash per second only 4.3 % / 10.5 %, because the sampled frames of the two fall
0.3 s apart and that footage changes completely within two or three frames. Slow-moving video (speeches,
interviews) keeps matching across sub-second offsets (``tests/analyzers`` trims a copy by 0.5 s); fast
motion needs denser hashing (``seconds_per_hash``) on the banked side.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from civicshield.errors import BankFormatError, CorruptMedia, MediaTooLarge, UnsupportedMedia, UsageError
from civicshield.hashing.pdq import PdqHash, hex_to_codes, parse_pdq_hex, pdq_from_rgb
from civicshield.media import Media, open_container

__all__ = ["VideoHash", "VpdqFrame", "VpdqMatch", "hash_video", "match_vpdq"]

DEFAULT_SECONDS_PER_HASH = 1.0


@dataclass(frozen=True)
class VpdqFrame:
    """One hashed frame: its number among decoded frames, PDQ quality and hash, ``number / frame_rate``."""

    frame_number: int
    quality: int
    hash: str
    timestamp_s: float

    def to_line(self) -> str:
        """The reference text form ``FrameNumber,Quality,PDQHash,Timestamp_s``."""
        return f"{self.frame_number},{self.quality},{self.hash},{self.timestamp_s:.3f}"

    @classmethod
    def from_line(cls, line: str) -> VpdqFrame:
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 4:
            raise BankFormatError(
                f"vPDQ frame needs 4 comma-separated fields, got {len(parts)}: {line[:100]!r}"
            )
        number, quality, digest, stamp = parts
        try:
            frame = cls(int(number), int(quality), parse_pdq_hex(digest), round(float(stamp), 3))
        except ValueError as exc:
            raise BankFormatError(f"vPDQ frame has a non-numeric field: {line[:100]!r}") from exc
        if frame.frame_number < 0 or not 0 <= frame.quality <= 100 or not frame.timestamp_s >= 0:
            raise BankFormatError(f"vPDQ frame has an out-of-range field: {line[:100]!r}")
        return frame


def _numbered(n: int, wire: str) -> str:
    parts = wire.split(",")
    if len(parts) != 3:
        raise BankFormatError(f"vPDQ frame {n + 1} is not 'hash,quality,timestamp': {wire[:100]!r}")
    digest, quality, stamp = parts
    return f"{n},{quality},{digest},{stamp}"


@dataclass(frozen=True)
class VideoHash:
    """A video's vPDQ hash: its hashed frames in frame order."""

    frames: tuple[VpdqFrame, ...]

    def __len__(self) -> int:
        return len(self.frames)

    def to_text(self, separator: str = "\n") -> str:
        """The reference format, one frame per line (``separator=";"`` gives the one-line CSV form)."""
        return separator.join(f.to_line() for f in self.frames)

    @classmethod
    def from_text(cls, text: str) -> VideoHash:
        """Parse frames separated by newlines (reference files) or ``;`` (our CSV cells)."""
        lines = [ln for ln in text.replace(";", "\n").splitlines() if ln.strip()]
        if not lines:
            raise BankFormatError("vPDQ hash has no frames")
        frames = []
        for i, line in enumerate(lines, 1):
            try:
                frames.append(VpdqFrame.from_line(line))
            except BankFormatError as exc:
                raise BankFormatError(f"vPDQ frame {i}: {exc.message}") from exc
        return cls(tuple(frames))

    def to_wire(self) -> str:
        """The sharing form, used by every export (STIX, MISP, threatexchange files, webhooks): a compact JSON
        list of ``"hash,quality,timestamp"`` strings, python-threatexchange's vPDQ signal. Frame numbers are
        left out (matching does not use them); ``parse`` numbers the frames in order again."""
        frames = [f"{f.hash},{f.quality},{f.timestamp_s:.3f}" for f in self.frames]
        return json.dumps(frames, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str) -> VideoHash:
        """The one vPDQ parser: the reference text (``FrameNumber,Quality,PDQHash,Timestamp_s`` per line, or
        ``;``-separated in a CSV cell), a JSON list of those lines (bank JSON files), or the sharing form (a
        JSON list of ``hash,quality,timestamp``). ``BankFormatError`` names what is wrong."""
        text = text.strip()
        if not text.startswith("["):
            return cls.from_text(text)
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BankFormatError(f"vPDQ JSON is malformed: {exc.msg}") from None
        if not isinstance(data, list) or not data or not all(isinstance(x, str) for x in data):
            raise BankFormatError(
                "vPDQ JSON must be a list of 'hash,quality,timestamp' (or "
                "'FrameNumber,Quality,PDQHash,Timestamp_s') strings"
            )
        lines = [x if x.count(",") == 3 else _numbered(n, x) for n, x in enumerate(data)]
        return cls.from_text("\n".join(lines))

    def trusted_frames(self, min_quality: int = 50) -> list[VpdqFrame]:
        return [f for f in self.frames if f.quality >= min_quality]

    def summary(self, min_quality: int = 50) -> dict[str, object]:
        qualities = [f.quality for f in self.frames]
        return {
            "frames": len(self.frames),
            "unique_hashes": len({f.hash for f in self.frames}),
            "low_quality_frames": sum(q < min_quality for q in qualities),
            "min_quality": min(qualities, default=0),
            "mean_quality": round(sum(qualities) / len(qualities), 1) if qualities else 0.0,
            "duration_s": self.frames[-1].timestamp_s if self.frames else 0.0,
        }


@dataclass(frozen=True)
class VpdqMatch:
    """Share of each side's (unique, quality-filtered) frames that have a match on the other side."""

    query_pct: float
    target_pct: float
    query_frames: int
    target_frames: int
    query_matched: int
    target_matched: int


def _frame_rate(stream: Any) -> Fraction:
    for attr in ("average_rate", "base_rate", "guessed_rate"):
        rate = getattr(stream, attr, None)
        if rate:
            return Fraction(rate)
    raise CorruptMedia("video stream has no frame rate")


def _hashed_frames(
    media: Media, seconds_per_hash: float, size: tuple[int, int] | None
) -> Iterator[VpdqFrame]:
    limits = media.limits
    with open_container(media) as container:
        if not container.streams.video:
            raise UnsupportedMedia(f"{media.name}: has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = _frame_rate(stream)
        frame_mod = max(1, int(seconds_per_hash * float(rate)))
        for number, frame in enumerate(container.decode(stream)):
            if number >= limits.max_decoded_frames:
                raise MediaTooLarge(f"{media.name}: more than {limits.max_decoded_frames} decoded frames")
            if frame.time is not None and frame.time > limits.max_duration_s:
                raise MediaTooLarge(f"{media.name}: video runs past {limits.max_duration_s:.0f} s")
            if number % frame_mod:
                continue
            if size is None:
                rgb = frame.to_ndarray(format="rgb24")
            else:
                rgb = frame.to_ndarray(format="rgb24", width=size[0], height=size[1], interpolation="AREA")
            pdq: PdqHash = pdq_from_rgb(rgb)
            yield VpdqFrame(number, pdq.quality, pdq.hex, round(number / float(rate), 3))


def hash_video(
    media: Media, *, seconds_per_hash: float = DEFAULT_SECONDS_PER_HASH, size: tuple[int, int] | None = None
) -> VideoHash:
    """vPDQ of the first video stream. ``seconds_per_hash=0`` hashes every frame; ``size`` resizes first."""
    if seconds_per_hash < 0:
        raise UsageError(f"seconds_per_hash must be >= 0, not {seconds_per_hash}")
    frames = tuple(_hashed_frames(media, seconds_per_hash, size))
    if not frames:
        raise CorruptMedia(f"{media.name}: video stream decodes to no frames")
    return VideoHash(frames)


def _bits(frames: list[VpdqFrame]) -> np.ndarray:
    codes = hex_to_codes([f.hash for f in frames])
    return np.unpackbits(codes, axis=1).astype(np.float32)


def _prepare(video: VideoHash, quality: int, unique: bool) -> list[VpdqFrame]:
    frames = list(video.frames)
    if unique:
        seen: set[str] = set()
        kept = []
        for frame in frames:
            if frame.hash not in seen:
                seen.add(frame.hash)
                kept.append(frame)
        frames = kept
    return [f for f in frames if f.quality >= quality]


_ROWS_PER_CHUNK = 1024  # bounds the distance matrix to 1024 x target frames (4 MB per 1000 target frames)


def match_vpdq(
    query: VideoHash, target: VideoHash, *, distance: int = 31, quality: int = 50, unique: bool = True
) -> VpdqMatch:
    """The published brute-force vPDQ comparison (see the module docstring for the C++ variant)."""
    q_frames = _prepare(query, quality, unique)
    t_frames = _prepare(target, quality, unique)
    if not q_frames or not t_frames:
        return VpdqMatch(0.0, 0.0, len(q_frames), len(t_frames), 0, 0)
    q_bits, t_bits = _bits(q_frames), _bits(t_frames)
    t_ones = t_bits.sum(1)[None, :]
    t_hit = np.zeros(len(t_frames), dtype=bool)
    q_matched = 0
    for start in range(0, len(q_frames), _ROWS_PER_CHUNK):
        chunk = q_bits[start : start + _ROWS_PER_CHUNK]
        # Hamming distance as |a| + |b| - 2 a.b over 0/1 vectors: exact in float32 (all values <= 256).
        close = chunk.sum(1)[:, None] + t_ones - 2.0 * (chunk @ t_bits.T) <= distance + 0.5
        q_matched += int(close.any(axis=1).sum())
        t_hit |= close.any(axis=0)
    t_matched = int(t_hit.sum())
    return VpdqMatch(
        q_matched * 100.0 / len(q_frames),
        t_matched * 100.0 / len(t_frames),
        len(q_frames),
        len(t_frames),
        q_matched,
        t_matched,
    )
