"""``BankSource``: what the bank analyzers look items up in.

Two implementations answer it: ``BankMatcher`` (bank files on disk, the command line) and the service's live
index of its database banks as one organization may see them (``service.infra.bank_index.OrgBanks``). The
analyzers ``known_fakes`` and ``official_media`` read either the same way, under the one ``MatchPolicy``, so a
verdict never depends on where the banks are kept.
"""

from __future__ import annotations

from typing import Any, Protocol

from civicshield.banks.matcher import BankMatch
from civicshield.banks.policy import MatchPolicy
from civicshield.hashing.cache import MediaHashes

__all__ = ["BankSource"]


class BankSource(Protocol):
    """Banks of one kind to look an item up in (the kind is the source's business, not the caller's)."""

    @property
    def policy(self) -> MatchPolicy:
        """Distances and scores the matches were made under."""
        ...

    def __len__(self) -> int:
        """How many entries the source holds (0: the analyzer abstains without hashing)."""
        ...

    def describe(self) -> dict[str, Any]:
        """What a report says about the source: bank names, entry count, policy version, notes."""
        ...

    def match(self, hashes: MediaHashes) -> list[BankMatch]:
        """Every entry the item matches, best first, one match per entry."""
        ...

    def near_misses(self, hashes: MediaHashes, radius: int) -> list[BankMatch]:
        """Pictures just outside the match distance (up to ``radius``), for a person to compare."""
        ...

    def has_audio_fingerprint(self, original_sha256: str) -> bool:
        """Whether a sound track was registered from this original item (a re-voiced copy differs there)."""
        ...
