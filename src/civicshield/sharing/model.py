"""The published fact-check every export starts from: ``FactCheck`` with its ``Party``s and ``MediaItem``s.

One frozen value feeds ClaimReview (for readers and search), STIX (for platforms' trust & safety tooling)
and MISP (for CERT-style sharing), so the three can never disagree about what was published. Values are
checked when built: a malformed hash or a naive timestamp fails here, with a stable error code, not halfway
through an export.

Hash kinds and their wire formats:

* ``sha256``: 64 lower-case hex digits of the exact bytes (finds only identical copies).
* ``pdq``: 64 hex digits, Meta's 256-bit PDQ image hash (matches at Hamming distance <= 31).
* ``vpdq``: the frame PDQ hashes of a video (each 64 hex), comma-separated, duplicates removed, in order:
  the set a vPDQ matcher compares frame by frame. Frame numbers and timestamps of the reference text form
  (``hashing.vpdq.VideoHash``) are left out: matching does not use them and they would only make the
  value longer. Build it with ``MediaHash.vpdq(f.hash for f in video.frames if f.quality >= 50)``.
* ``chromaprint``: a Chromaprint/AcoustID compressed audio fingerprint (URL-safe base64 text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from civicshield.errors import BankFormatError, UsageError
from civicshield.sharing.ratings import Rating

__all__ = ["FactCheck", "HashKind", "MediaHash", "MediaItem", "MediaKind", "Party", "PartyKind"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHROMAPRINT = re.compile(r"[A-Za-z0-9_-]+")
_MAX_VPDQ_FRAMES = 4096
_MAX_CHROMAPRINT_CHARS = 65536


def _check_url(url: str, *, what: str) -> str:
    """An absolute http(s) URL, or ``UsageError`` naming ``what``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise UsageError(f"{what} must be an absolute http(s) URL, got {url!r}")
    return url


def _check_aware(moment: datetime, *, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise UsageError(f"{what} must be a time-zone-aware datetime, got {moment.isoformat()}")


class PartyKind(StrEnum):
    ORGANIZATION = "Organization"
    PERSON = "Person"


@dataclass(frozen=True)
class Party:
    """An organization (publisher, author) or person (who made a claim).

    ``updated`` is when the party's public details last changed; STIX uses it as the identity's
    ``modified`` so partners replace their copy when a name or URL changes.
    """

    name: str
    url: str | None = None
    same_as: tuple[str, ...] = ()
    logo_url: str | None = None
    kind: PartyKind = PartyKind.ORGANIZATION
    updated: datetime | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise UsageError("a party needs a name")
        object.__setattr__(self, "same_as", tuple(self.same_as))
        for url in (self.url, self.logo_url, *self.same_as):
            if url is not None:
                _check_url(url, what=f"URL of {self.name!r}")
        if self.updated is not None:
            _check_aware(self.updated, what=f"updated of {self.name!r}")

    @property
    def key(self) -> str:
        """What names this party in derived ids: its URL if any (names get restyled), else its name."""
        return self.url or self.name.strip()


class HashKind(StrEnum):
    SHA256 = "sha256"
    PDQ = "pdq"
    VPDQ = "vpdq"
    CHROMAPRINT = "chromaprint"

    @property
    def perceptual(self) -> bool:
        """Whether matching is by similarity (distance), not equality."""
        return self is not HashKind.SHA256


@dataclass(frozen=True)
class MediaHash:
    """One hash of a media item, validated and normalised to its wire format (see the module docstring)."""

    kind: HashKind
    value: str
    quality: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _normalise(self.kind, self.value))
        if self.quality is not None and not 0 <= self.quality <= 100:
            raise UsageError(f"{self.kind} quality {self.quality} outside 0..100")

    @classmethod
    def vpdq(cls, frame_hashes: Iterable[str]) -> MediaHash:
        """A vPDQ value from frame PDQ hashes (drop low-quality frames before calling, as vPDQ does)."""
        return cls(HashKind.VPDQ, ",".join(frame_hashes))

    @classmethod
    def stored(cls, kind: str, value: str, quality: int | None = None) -> MediaHash:
        """A hash as the item store and the banks keep it. Only vPDQ differs from the wire form: there it is
        the reference text (``frame,quality,hash,timestamp`` per frame), which becomes the frame hashes of
        the trusted frames, in order. (A video fact-check could not be published while this was missing.)"""
        hash_kind = HashKind(kind)
        first = value.strip().replace(";", "\n").split("\n", 1)[0].split(",")
        if hash_kind is not HashKind.VPDQ or len(first) != 4 or not first[0].strip().isdigit():
            return cls(hash_kind, value, quality)
        from civicshield.hashing.vpdq import VideoHash

        try:
            video = VideoHash.from_text(value)
        except BankFormatError as exc:
            raise UsageError(f"not a vPDQ value: {exc.message}") from exc
        frames = [f.hash for f in video.trusted_frames()] or [f.hash for f in video.frames]
        return cls.vpdq(frames)

    @property
    def frames(self) -> tuple[str, ...]:
        """The frame PDQ hashes of a vPDQ value (empty for other kinds)."""
        return tuple(self.value.split(",")) if self.kind is HashKind.VPDQ else ()


def _normalise(kind: HashKind, value: str) -> str:
    text = value.strip()
    if kind in (HashKind.SHA256, HashKind.PDQ):
        text = text.lower()
        if not _HEX64.fullmatch(text):
            raise UsageError(f"not a {kind} hash (want 64 hex digits): {text[:80]!r}")
        return text
    if kind is HashKind.VPDQ:
        frames = list(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
        if not frames or len(frames) > _MAX_VPDQ_FRAMES or not all(_HEX64.fullmatch(f) for f in frames):
            raise UsageError(f"not a vPDQ value (1..{_MAX_VPDQ_FRAMES} comma-separated 64-hex frame hashes)")
        return ",".join(frames)
    if not text or len(text) > _MAX_CHROMAPRINT_CHARS or not _CHROMAPRINT.fullmatch(text):
        raise UsageError("not a Chromaprint fingerprint (URL-safe base64, at most 65536 characters)")
    return text


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True)
class MediaItem:
    """The reviewed media: its hashes and, when it may be shared, where a copy can be fetched."""

    kind: MediaKind
    hashes: tuple[MediaHash, ...]
    content_url: str | None = None
    encoding_format: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "hashes", tuple(self.hashes))
        if not self.hashes:
            raise UsageError("a media item needs at least one hash")
        kinds = [h.kind for h in self.hashes]
        if len(set(kinds)) != len(kinds):
            raise UsageError(f"a media item carries each hash kind once, got {', '.join(kinds)}")
        if self.content_url is not None:
            _check_url(self.content_url, what="content_url")

    def hash(self, kind: HashKind) -> MediaHash | None:
        return next((h for h in self.hashes if h.kind is kind), None)

    @property
    def sha256(self) -> str | None:
        found = self.hash(HashKind.SHA256)
        return found.value if found else None


@dataclass(frozen=True)
class FactCheck:
    """A published fact-check of a claim and the media that carried it.

    ``url`` is the fact-check page (its stable identity everywhere); ``appearances`` are where the claim
    or media was seen; ``first_appearance`` the earliest of those, when known.
    """

    claim: str
    rating: Rating
    url: str
    publisher: Party
    date_published: datetime
    language: str = "en"
    author: Party | None = None
    headline: str | None = None
    summary: str | None = None
    date_modified: datetime | None = None
    claim_author: Party | None = None
    claim_date: datetime | None = None
    appearances: tuple[str, ...] = ()
    first_appearance: str | None = None
    media: tuple[MediaItem, ...] = field(default_factory=tuple)
    claimreview_url: str | None = None  # where the ClaimReview JSON-LD document itself is served

    def __post_init__(self) -> None:
        if not self.claim.strip():
            raise UsageError("a fact-check needs the claim text")
        _check_url(self.url, what="fact-check url")
        object.__setattr__(self, "appearances", tuple(dict.fromkeys(self.appearances)))
        object.__setattr__(self, "media", tuple(self.media))
        for url in (*self.appearances, *([self.first_appearance] if self.first_appearance else [])):
            _check_url(url, what="appearance")
        if self.claimreview_url is not None:
            _check_url(self.claimreview_url, what="claimreview_url")
        _check_aware(self.date_published, what="date_published")
        for name in ("date_modified", "claim_date"):
            value = getattr(self, name)
            if value is not None:
                _check_aware(value, what=name)
        if self.date_modified is not None and self.date_modified < self.date_published:
            raise UsageError("date_modified is earlier than date_published")

    @property
    def reviewer(self) -> Party:
        """Who wrote the review: ``author``, or the publisher when no separate author is named."""
        return self.author or self.publisher

    @property
    def last_modified(self) -> datetime:
        return self.date_modified or self.date_published

    @property
    def observed_since(self) -> datetime:
        """When the claim was first seen: ``claim_date`` when known and earlier, else the publication."""
        if self.claim_date is not None and self.claim_date < self.date_published:
            return self.claim_date
        return self.date_published
