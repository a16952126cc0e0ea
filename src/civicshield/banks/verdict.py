"""``BankVerdict``: what bank matches alone say about an item, in one word.

The match API's ``verdict`` and the pages' badges read it; the full analysis goes further (the fusion policy
reads ``known_fakes.match``, ``official_media.altered`` and ``official_media.exact`` findings beside every
other line of evidence, and calls an identical official copy ``authentic_provenance``).

A known fake wins over official media (an item can match both: a fake built from an official photo), unless
the item is also on an allowlist, which sets every known-fake match aside (HMA's allowlist banks: a genuine
photo wrongly banked must not be called a fake while the entry is reviewed). Among official matches, any
identical copy makes the item the official item itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Protocol

from civicshield.banks.model import BankKind

__all__ = ["BankVerdict"]


class Matched(Protocol):
    """Anything that says which kind of bank matched and whether the bytes were identical."""

    @property
    def bank_kind(self) -> str: ...

    @property
    def exact(self) -> bool: ...


class BankVerdict(StrEnum):
    KNOWN_FAKE = "known_fake"
    ALTERED_OFFICIAL = "altered_official"  # a near-duplicate of registered official media, bytes differ
    AUTHENTIC_OFFICIAL = "authentic_official"  # the registered official item itself (identical bytes)
    ALLOWLISTED = "allowlisted"  # on an allowlist: any known-fake match is set aside
    NO_MATCH = "no_match"

    @classmethod
    def of(cls, matches: Iterable[Matched]) -> BankVerdict:
        """The verdict of a set of matches (``NO_MATCH`` when empty).

        >>> from civicshield.banks import BankEntry, BankKind, BankMatch
        >>> fake = BankMatch("b", BankKind.KNOWN_FAKE, BankEntry.create("sha256", "ab" * 32, "x"), exact=True)
        >>> BankVerdict.of([fake]), BankVerdict.of([])
        (<BankVerdict.KNOWN_FAKE: 'known_fake'>, <BankVerdict.NO_MATCH: 'no_match'>)
        """
        seen = list(matches)
        allowed = any(m.bank_kind == BankKind.ALLOWLIST for m in seen)
        if not allowed and any(m.bank_kind == BankKind.KNOWN_FAKE for m in seen):
            return cls.KNOWN_FAKE
        official = [m for m in seen if m.bank_kind == BankKind.AUTHENTIC]
        if official:
            return cls.AUTHENTIC_OFFICIAL if any(m.exact for m in official) else cls.ALTERED_OFFICIAL
        return cls.ALLOWLISTED if allowed else cls.NO_MATCH
