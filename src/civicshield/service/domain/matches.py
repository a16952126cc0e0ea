"""A bank match as the service knows it: the library's ``BankMatch`` and the database row behind it (bank,
owner, label's TLP, the case it came from), which decides who may hear of it."""

from __future__ import annotations

from dataclasses import dataclass

from civicshield.banks import BankMatch
from civicshield.sharing.tlp import TLP


@dataclass(frozen=True)
class EntryMeta:
    row_id: int
    bank_id: int
    owner_org_id: int
    tlp: TLP
    case_id: int | None


@dataclass(frozen=True)
class LiveMatch:
    match: BankMatch
    meta: EntryMeta
