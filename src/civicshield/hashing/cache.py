"""``media_hashes``: every perceptual hash of one item, computed once per sha256.

The phash analyzer and both bank analyzers need the same PDQ / vPDQ / Chromaprint values, and a video's vPDQ
costs a full decode, so the results are kept in a small process-wide LRU keyed by the content sha256 (the
bytes fully determine the hashes; ``Media.limits`` only decide whether hashing is allowed at all, and a
refusal is never cached). Hashes are small (a 10-minute video is 600 frames of 32 bytes), so 64 items cost
little memory.

The primary hash of an item (PDQ of an image, vPDQ of a video, Chromaprint of an audio file) raises
``MediaError`` when the item cannot be decoded. A video's sound track is secondary: if it cannot be
fingerprinted (corrupt track, libchromaprint missing) the reason goes to ``notes`` and the rest stands.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from civicshield.errors import AnalyzerUnavailable, CivicShieldError, MediaError, UsageError
from civicshield.hashing.audio import AudioFingerprint, fingerprint_audio, parse_fingerprint
from civicshield.hashing.pdq import FRAMED, TURNS, ImagePdq, PdqHash, image_pdq, parse_pdq_hex
from civicshield.hashing.vpdq import VideoHash, hash_video
from civicshield.media import Media, MediaKind
from civicshield.once import KeyedOnce

__all__ = ["MediaHashes", "PdqQuery", "clear_hash_cache", "media_hashes"]

CACHE_SIZE = 64


@dataclass(frozen=True)
class PdqQuery:
    """One PDQ hash to look up for an item: as stored, EXIF-oriented, or turned (``turn`` names how the item
    differs from a picture it matches this way)."""

    hash: PdqHash
    oriented: bool = False
    turn: str | None = None


@dataclass(frozen=True)
class MediaHashes:
    """The content identifiers of one item. Absent kinds are ``None``; ``notes`` says why when it matters."""

    sha256: str
    kind: MediaKind
    pdq: PdqHash | None = None
    pdq_oriented: PdqHash | None = None  # EXIF-corrected picture, when the tag rotates or flips it
    exif_orientation: int = 1
    pdq_turned: tuple[PdqHash, ...] = ()  # the seven other orientations of the stored pixels (``TURNS``)
    pdq_framed: PdqHash | None = None  # the picture cut out of a frame, caption band or screenshot
    vpdq: VideoHash | None = None
    chromaprint: AudioFingerprint | None = None
    notes: tuple[str, ...] = ()

    @classmethod
    def of_image(cls, sha256: str, pdq: ImagePdq) -> MediaHashes:
        """An image item's identifiers from its ``ImagePdq`` (every look-up variant)."""
        return cls(
            sha256,
            MediaKind.IMAGE,
            pdq=pdq.stored,
            pdq_oriented=pdq.oriented,
            exif_orientation=pdq.orientation,
            pdq_turned=pdq.turned,
            pdq_framed=pdq.framed,
        )

    @classmethod
    def from_texts(
        cls, texts: Mapping[str, tuple[str, int | None]], *, sha256: str = "", kind: MediaKind | None = None
    ) -> MediaHashes:
        """An item's identifiers from hashes as they travel (``{"pdq": (hex, quality), "vpdq": (text, None),
        "chromaprint": (fingerprint, None)}``), each read by its one parser; ``UsageError`` naming a bad one.
        ``kind`` defaults to what the hashes imply (a vPDQ is a video, a fingerprint alone is audio)."""
        try:
            pdq = PdqHash(parse_pdq_hex(texts["pdq"][0]), texts["pdq"][1] or 100) if "pdq" in texts else None
            vpdq = VideoHash.from_text(texts["vpdq"][0]) if "vpdq" in texts else None
            audio = parse_fingerprint(texts["chromaprint"][0]) if "chromaprint" in texts else None
        except CivicShieldError as exc:
            raise UsageError(exc.message) from exc
        if kind is None:
            kind = MediaKind.VIDEO if vpdq else MediaKind.AUDIO if audio and not pdq else MediaKind.IMAGE
        return cls(sha256=sha256.strip().lower(), kind=kind, pdq=pdq, vpdq=vpdq, chromaprint=audio)

    def pdq_queries(self, min_quality: int) -> list[PdqQuery]:
        """What a bank look-up tries, in order of preference: the picture as stored, EXIF-oriented, then
        turned or mirrored. Hashes under ``min_quality`` are left out (flat pictures collide)."""
        queries = [
            PdqQuery(h, oriented) for h, oriented in ((self.pdq, False), (self.pdq_oriented, True)) if h
        ]
        queries += [PdqQuery(h, turn=turn) for h, turn in zip(self.pdq_turned, TURNS, strict=False)]
        if self.pdq_framed is not None:
            queries.append(PdqQuery(self.pdq_framed, turn=FRAMED))
        return [q for q in queries if q.hash.quality >= min_quality]


_lock = threading.Lock()
_cache: OrderedDict[str, MediaHashes] = OrderedDict()
_computing = KeyedOnce()


def clear_hash_cache() -> None:
    with _lock:
        _cache.clear()


def _audio_of_video(media: Media) -> tuple[AudioFingerprint | None, tuple[str, ...]]:
    if not media.info.has_audio:
        return None, ()
    try:
        return fingerprint_audio(media), ()
    except (AnalyzerUnavailable, MediaError) as exc:
        return None, (f"sound track not fingerprinted: {exc.message}",)


def _compute(media: Media) -> MediaHashes:
    if media.kind is MediaKind.IMAGE:
        return MediaHashes.of_image(media.sha256, image_pdq(media))
    if media.kind is MediaKind.VIDEO:
        audio, notes = _audio_of_video(media)
        return MediaHashes(media.sha256, media.kind, vpdq=hash_video(media), chromaprint=audio, notes=notes)
    return MediaHashes(media.sha256, media.kind, chromaprint=fingerprint_audio(media))


def media_hashes(media: Media) -> MediaHashes:
    """PDQ (images), vPDQ at one hash per second (+ Chromaprint of the sound track) for videos, Chromaprint
    for audio; cached by sha256. Raises ``MediaError`` for undecodable items and ``AnalyzerUnavailable``
    for audio items when libchromaprint is missing."""
    hit = _cached(media.sha256)
    if hit is not None:
        return hit
    with _computing.held(media.sha256):  # another thread hashing the same item: wait for its result
        hit = _cached(media.sha256)
        if hit is not None:
            return hit
        hashes = _compute(media)  # outside the cache's lock: hashing a video takes seconds
        with _lock:
            _cache[media.sha256] = hashes
            _cache.move_to_end(media.sha256)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return hashes


def _cached(sha256: str) -> MediaHashes | None:
    with _lock:
        hit = _cache.get(sha256)
        if hit is not None:
            _cache.move_to_end(sha256)
        return hit
