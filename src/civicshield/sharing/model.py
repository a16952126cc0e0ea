"""The published fact-check every export starts from: ``FactCheck`` with its ``Party``s and ``MediaItem``s.

One frozen value feeds ClaimReview (for readers and search), STIX (for platforms' trust & safety tooling)
and MISP (for CERT-style sharing), so the three can never disagree about what was published. Values are
checked when built: a malformed hash or a naive timestamp fails here, with a stable error code, not halfway
through an export.

Hash kinds and their wire formats:

* ``sha256``: 64 lower-case hex digits of the exact bytes (finds only identical copies).
* ``pdq``: 64 hex digits, Meta's 256-bit PDQ image hash (matches at Hamming distance <= 31).
* ``vpdq``: the sharing form of ``hashing.vpdq.VideoHash`` (``VideoHash.to_wire``): a compact JSON list of
  ``"hash,quality,timestamp"`` per hashed frame, python-threatexchange's vPDQ signal, so a partner's vPDQ
  matcher gets the frame qualities it filters on. Any form ``VideoHash.parse`` reads (the reference text the
  banks and the item store keep, bank JSON lists) is accepted and normalised to it.
* ``chromaprint``: a Chromaprint/AcoustID compressed audio fingerprint (URL-safe base64 text).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from civicshield.errors import BankFormatError, UsageError
from civicshield.sharing.ratings import Rating
from civicshield.sniff import MediaKind

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
    def stored(cls, kind: str, value: str, quality: int | None = None) -> MediaHash:
        """A hash as the item store and the banks keep it (vPDQ: the reference text, normalised to the
        sharing form like any other accepted form)."""
        return cls(HashKind(kind), value, quality)

    @property
    def frames(self) -> tuple[str, ...]:
        """The frame PDQ hashes of a vPDQ value, in order (empty for other kinds)."""
        if self.kind is not HashKind.VPDQ:
            return ()
        return tuple(str(frame).split(",", 1)[0] for frame in json.loads(self.value))


def _normalise(kind: HashKind, value: str) -> str:
    text = value.strip()
    if kind in (HashKind.SHA256, HashKind.PDQ):
        text = text.lower()
        if not _HEX64.fullmatch(text):
            raise UsageError(f"not a {kind} hash (want 64 hex digits): {text[:80]!r}")
        return text
    if kind is HashKind.VPDQ:
        from civicshield.hashing.vpdq import VideoHash  # the one vPDQ parser and serializer

        try:
            video = VideoHash.parse(text)
        except BankFormatError as exc:
            raise UsageError(f"not a vPDQ value: {exc.message}") from None
        if len(video) > _MAX_VPDQ_FRAMES:
            raise UsageError(f"a vPDQ value holds at most {_MAX_VPDQ_FRAMES} frames, got {len(video)}")
        return video.to_wire()
    if not text or len(text) > _MAX_CHROMAPRINT_CHARS or not _CHROMAPRINT.fullmatch(text):
        raise UsageError("not a Chromaprint fingerprint (URL-safe base64, at most 65536 characters)")
    return text


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
    retracted: bool = False  # withdrawn by its publisher: STIX objects are revoked
    techniques: tuple[str, ...] = ()  # DISARM technique ids; STIX carries them as attack patterns
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
