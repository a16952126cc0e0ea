"""``Bank`` and ``BankEntry``: named lists of known items held as hashes, with labels and links.

A bank is either ``known_fake`` (debunked fakes: a match is evidence of manipulation) or ``authentic``
(official media registered by its publisher: an exact copy is authentic, a near-duplicate with different
bytes is an altered copy). Entries hold one identifier each; one registered item usually yields several
(sha256 + PDQ, or sha256 + vPDQ + Chromaprint), tied together by ``original_sha256``.

Values are validated when an entry is built, so a ``Bank`` in memory is always well-formed; parsing errors
are ``BankFormatError`` with a message that names the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum

from civicshield.errors import BankFormatError
from civicshield.hashing.pdq import parse_pdq_hex
from civicshield.hashing.vpdq import VideoHash

__all__ = [
    "Bank",
    "BankEntry",
    "BankKind",
    "SignalType",
    "is_bank_name",
    "validate_bank_name",
    "validate_hash",
]

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
MAX_TEXT = 2000


class BankKind(StrEnum):
    KNOWN_FAKE = "known_fake"
    AUTHENTIC = "authentic"
    # Media that must never match as a fake (official images, widely shared genuine photos): a match here
    # sets aside the item's known-fake matches, for a person to review the entry that caused them.
    ALLOWLIST = "allowlist"


class SignalType(StrEnum):
    PDQ = "pdq"
    VPDQ = "vpdq"
    CHROMAPRINT = "chromaprint"
    SHA256 = "sha256"


def is_bank_name(name: str) -> bool:
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def validate_bank_name(name: str) -> str:
    """Bank names are file names too: lowercase letters, digits, ``-`` and ``_``, at most 64 characters."""
    if not is_bank_name(name):
        raise BankFormatError(f"bad bank name {name!r}: use 1-64 of a-z, 0-9, '-', '_' (starting a-z or 0-9)")
    return name


def _sha256(value: str, what: str) -> str:
    v = value.strip().lower()
    if not _SHA256.fullmatch(v):
        raise BankFormatError(f"{what} must be 64 hex digits, got {value[:80]!r}")
    return v


def validate_hash(signal_type: SignalType, value: str) -> str:
    """The canonical text of a hash value of the given type (vPDQ: reference lines joined by newlines)."""
    if not isinstance(value, str) or not value.strip():
        raise BankFormatError(f"empty {signal_type} hash")
    if signal_type is SignalType.PDQ:
        return parse_pdq_hex(value)
    if signal_type is SignalType.SHA256:
        return _sha256(value, "sha256 hash")
    if signal_type is SignalType.VPDQ:
        return VideoHash.parse(value).to_text()
    text = value.strip()
    if not _BASE64URL.fullmatch(text):
        raise BankFormatError(f"chromaprint hash must be URL-safe base64 (AcoustID form), got {text[:40]!r}")
    return text


def _text(value: str | None, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BankFormatError(f"{what} must be text, got {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise BankFormatError(f"{what} is longer than {MAX_TEXT} characters")
    return value


@dataclass(frozen=True)
class BankEntry:
    """One known identifier. Build through ``BankEntry.create`` (validates and normalises)."""

    signal_type: SignalType
    hash: str = field(repr=False)
    label: str
    link: str | None = None
    added: date = field(default_factory=lambda: datetime.now(UTC).date())
    quality: int | None = None  # PDQ quality (vPDQ: per frame inside the hash)
    original_name: str | None = None
    original_sha256: str | None = None

    @classmethod
    def create(
        cls,
        signal_type: str | SignalType,
        hash: str,
        label: str,
        *,
        link: str | None = None,
        added: date | str | None = None,
        quality: int | str | None = None,
        original_name: str | None = None,
        original_sha256: str | None = None,
    ) -> BankEntry:
        try:
            kind = SignalType(signal_type)
        except ValueError:
            known = ", ".join(t.value for t in SignalType)
            raise BankFormatError(f"unknown signal_type {signal_type!r} (known: {known})") from None
        return cls(
            signal_type=kind,
            hash=validate_hash(kind, hash),
            label=_text(label, "label") or "",
            link=_text(link, "link"),
            added=_date(added),
            quality=_quality(quality),
            original_name=_text(original_name, "original_name"),
            original_sha256=_sha256(original_sha256, "original_sha256") if original_sha256 else None,
        )

    @property
    def key(self) -> tuple[str, str]:
        """Identity within a bank: the same hash of the same type is registered once."""
        return (self.signal_type.value, self.hash)

    @property
    def video(self) -> VideoHash:
        return VideoHash.from_text(self.hash)

    @property
    def shared_hash(self) -> str:
        """The hash as every export and event carries it (``shared_hash``)."""
        return shared_hash(self.signal_type, self.hash)


def shared_hash(signal_type: str | SignalType, stored: str) -> str:
    """A stored hash in the form exports and events carry: vPDQ as ``VideoHash.to_wire`` (the sharing form),
    every other kind as stored."""
    return VideoHash.from_text(stored).to_wire() if SignalType(signal_type) is SignalType.VPDQ else stored


def _date(value: date | str | None) -> date:
    if value is None or value == "":
        return datetime.now(UTC).date()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise BankFormatError(f"added must be an ISO date (YYYY-MM-DD), got {value!r}") from None


def _quality(value: int | str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        q = int(value)
    except (TypeError, ValueError):
        raise BankFormatError(f"quality must be an integer 0-100, got {value!r}") from None
    if not 0 <= q <= 100:
        raise BankFormatError(f"quality must be 0-100, got {q}")
    return q


@dataclass(frozen=True)
class Bank:
    """A named, typed list of entries. Immutable: ``with_entries`` returns the grown bank."""

    name: str
    kind: BankKind
    entries: tuple[BankEntry, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        validate_bank_name(self.name)
        object.__setattr__(self, "kind", BankKind(self.kind))
        object.__setattr__(self, "entries", tuple(self.entries))

    def with_entries(
        self, new: list[BankEntry] | tuple[BankEntry, ...]
    ) -> tuple[Bank, tuple[BankEntry, ...]]:
        """The bank with ``new`` appended (skipping hashes it already holds), and the entries really added."""
        seen = {e.key for e in self.entries}
        added: list[BankEntry] = []
        for entry in new:
            if entry.key not in seen:
                seen.add(entry.key)
                added.append(entry)
        return replace(self, entries=self.entries + tuple(added)), tuple(added)
