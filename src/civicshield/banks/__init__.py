"""Banks of known items (debunked fakes, authentic official media) held as hashes, and matching against them.

>>> from civicshield.banks import Bank, BankKind
>>> Bank("debunked-2025", BankKind.KNOWN_FAKE).entries
()
"""

from civicshield.banks.io import (
    CSV_COLUMNS,
    bank_from_json,
    bank_to_json,
    entries_from_csv,
    entries_from_json,
    entries_to_csv,
    entries_to_json,
)
from civicshield.banks.matcher import BankMatch, BankMatcher
from civicshield.banks.model import Bank, BankEntry, BankKind, SignalType
from civicshield.banks.policy import DEFAULT_POLICY, MatchPolicy
from civicshield.banks.store import OFFICIAL_BANK, BankStore, entries_for_media, register_official

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_POLICY",
    "OFFICIAL_BANK",
    "Bank",
    "BankEntry",
    "BankKind",
    "BankMatch",
    "BankMatcher",
    "BankStore",
    "MatchPolicy",
    "SignalType",
    "bank_from_json",
    "bank_to_json",
    "entries_for_media",
    "entries_from_csv",
    "entries_from_json",
    "entries_to_csv",
    "entries_to_json",
    "register_official",
]
