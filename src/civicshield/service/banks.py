"""Banks in the database, one live matcher per bank, and TLP-aware visibility.

Visibility (TLP 2.0 on the community of organizations using this service): an organization sees every entry
of its own banks; other organizations see entries labelled CLEAR or GREEN. AMBER, AMBER+STRICT and RED stay
with the owner (sharing them with named recipients goes through subscriptions and exports, which check the
label again). An entry's label is the more restrictive of its own and its bank's.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from civicshield.banks import Bank, BankEntry, BankKind, BankMatch, BankMatcher
from civicshield.errors import NotFound, UsageError
from civicshield.hashing.cache import MediaHashes
from civicshield.service import audit
from civicshield.service.db.engine import Database
from civicshield.service.db.tables import BankEntryRow, BankRow, Organization
from civicshield.service.principal import Principal
from civicshield.service.security import Role
from civicshield.service.store import TLPS, Forbidden
from civicshield.signals import Finding, Signal

SHARED_WITH_COMMUNITY = ("CLEAR", "GREEN")


def stricter(a: str, b: str) -> str:
    return a if TLPS.index(a) >= TLPS.index(b) else b


def visible(org_id: int, owner_org_id: int, tlp: str) -> bool:
    return org_id == owner_org_id or tlp in SHARED_WITH_COMMUNITY


def value_key(signal_type: str, value: str) -> str:
    return hashlib.sha256(f"{signal_type}:{value}".encode()).hexdigest()


# ---- store functions ----------------------------------------------------------------------------------


def create_bank(s: Session, who: Principal, name: str, kind: str, tlp: str) -> BankRow:
    if not who.can(Role.REVIEWER):
        raise Forbidden("reviewers and admins create banks")
    if kind not in set(BankKind):
        raise UsageError("kind must be known_fake or authentic")
    if tlp not in TLPS:
        raise UsageError(f"unknown TLP {tlp!r}")
    Bank(name, BankKind(kind))  # validates the name
    if s.scalar(select(BankRow).where(BankRow.org_id == who.org_id, BankRow.name == name)):
        from civicshield.service.store import Conflict

        raise Conflict(f"bank {name!r} exists")
    row = BankRow(org_id=who.org_id, name=name, kind=kind, tlp=tlp)
    s.add(row)
    s.flush()
    audit.record(
        s, who.org_id, who.actor, "bank.created", "bank", row.id, {"name": name, "kind": kind, "tlp": tlp}
    )
    return row


def ensure_bank(s: Session, org_id: int, name: str, kind: str, tlp: str) -> BankRow:
    row = s.scalar(select(BankRow).where(BankRow.org_id == org_id, BankRow.name == name))
    if row is None:
        row = BankRow(org_id=org_id, name=name, kind=kind, tlp=tlp)
        s.add(row)
        s.flush()
    return row


def list_banks(s: Session, who: Principal) -> list[BankRow]:
    q = select(BankRow).where(or_(BankRow.org_id == who.org_id, BankRow.tlp.in_(SHARED_WITH_COMMUNITY)))
    return list(s.scalars(q.order_by(BankRow.id)))


def get_bank(s: Session, who: Principal, bank_id: int) -> BankRow:
    row = s.get(BankRow, bank_id)
    if row is None or not visible(who.org_id, row.org_id, row.tlp):
        raise NotFound("no such bank")
    return row


def add_entries(
    s: Session,
    who: Principal,
    bank: BankRow,
    entries: Sequence[BankEntry],
    *,
    tlp: str | None = None,
    case_id: int | None = None,
) -> list[BankEntryRow]:
    """Append entries the bank does not hold yet. Only the owner's reviewers and admins write to a bank."""
    if bank.org_id != who.org_id:
        raise NotFound("no such bank")
    if not who.can(Role.REVIEWER):
        raise Forbidden("reviewers and admins add bank entries")
    label = stricter(tlp or bank.tlp, bank.tlp)
    existing = set(s.scalars(select(BankEntryRow.value_key).where(BankEntryRow.bank_id == bank.id)))
    rows = []
    for e in entries:
        key = value_key(e.signal_type.value, e.hash)
        if key in existing:
            continue
        existing.add(key)
        rows.append(
            BankEntryRow(
                bank_id=bank.id,
                signal_type=e.signal_type.value,
                value=e.hash,
                value_key=key,
                label=e.label,
                link=e.link or "",
                case_id=case_id,
                tlp=label,
                quality=e.quality,
                original_name=e.original_name,
                original_sha256=e.original_sha256,
            )
        )
    s.add_all(rows)
    if rows:
        bank.revision += 1
    s.flush()
    if rows:
        audit.record(
            s,
            who.org_id,
            who.actor,
            "bank.entries_added",
            "bank",
            bank.id,
            {"count": len(rows), "case": case_id},
        )
    return rows


def visible_entries(s: Session, who: Principal, bank: BankRow, limit: int = 100_000) -> list[BankEntryRow]:
    q = select(BankEntryRow).where(BankEntryRow.bank_id == bank.id)
    if bank.org_id != who.org_id:
        q = q.where(BankEntryRow.tlp.in_(SHARED_WITH_COMMUNITY))
    return list(s.scalars(q.order_by(BankEntryRow.id).limit(limit)))


def to_entry(row: BankEntryRow) -> BankEntry:
    return BankEntry.create(
        row.signal_type,
        row.value,
        row.label,
        link=row.link or None,
        added=row.created_at.date(),
        quality=row.quality,
        original_name=row.original_name,
        original_sha256=row.original_sha256,
    )


# ---- live matching ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryMeta:
    row_id: int
    bank_id: int
    owner_org_id: int
    tlp: str
    case_id: int | None


@dataclass(frozen=True)
class LiveMatch:
    match: BankMatch
    meta: EntryMeta


@dataclass
class _LiveBank:
    row: BankRow
    bank: Bank
    meta: dict[tuple[str, str], EntryMeta]
    matcher: BankMatcher


class LiveIndex:
    """One matcher (FAISS multi-hash index inside) per bank, rebuilt from the database at start and updated
    when entries are added. Readers never wait on a rebuild: a bank's matcher is swapped in when ready."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._banks: dict[int, _LiveBank] = {}
        self._revisions: dict[int, int] = {}
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()

    def rebuild(self) -> None:
        self.sync()

    def sync(self) -> None:
        """Follow bank revisions in the database (cheap: one row per bank), refreshing changed banks. Works
        across processes: any API process or worker that adds entries bumps the revision."""
        with self._sync_lock:
            with self.db.session() as s:
                current = {row[0]: row[1] for row in s.execute(select(BankRow.id, BankRow.revision))}
            for bank_id, revision in current.items():
                if self._revisions.get(bank_id) != revision:
                    self.refresh(bank_id)
                    self._revisions[bank_id] = revision

    def refresh(self, bank_id: int) -> None:
        with self.db.session() as s:
            row = s.get(BankRow, bank_id)
            if row is None:
                return
            entries = list(s.scalars(select(BankEntryRow).where(BankEntryRow.bank_id == bank_id)))
            s.expunge(row)
            live = _build(row, entries)
        with self._lock:
            self._banks[bank_id] = live

    def __len__(self) -> int:
        return sum(len(b.bank.entries) for b in self._banks.values())

    def match(
        self, org_id: int, hashes: MediaHashes, kinds: Iterable[str] = ("known_fake", "authentic")
    ) -> list[LiveMatch]:
        wanted = set(kinds)
        self.sync()
        with self._lock:
            banks = list(self._banks.values())
        out: list[LiveMatch] = []
        for live in banks:
            if live.row.kind not in wanted:
                continue
            for m in live.matcher.match(hashes):
                meta = live.meta.get(m.entry.key)
                if meta is not None and visible(org_id, meta.owner_org_id, meta.tlp):
                    out.append(LiveMatch(m, meta))
        return sorted(out, key=lambda lm: -lm.match.strength)


def _build(row: BankRow, entries: list[BankEntryRow]) -> _LiveBank:
    converted = [(e, to_entry(e)) for e in entries]
    bank = Bank(_safe_name(row), BankKind(row.kind), tuple(be for _, be in converted))
    meta = {
        be.key: EntryMeta(e.id, row.id, row.org_id, stricter(e.tlp, row.tlp), e.case_id)
        for e, be in converted
    }
    return _LiveBank(row=row, bank=bank, meta=meta, matcher=BankMatcher([bank]))


def _safe_name(row: BankRow) -> str:
    return f"{row.name}"[:64]


def org_name(s: Session, org_id: int) -> str:
    org = s.get(Organization, org_id)
    return org.name if org else "unknown"


def signals_for(matches: Sequence[LiveMatch]) -> list[Signal]:
    """The service's database banks as a signal the fusion policy reads like the library's bank analyzers
    (same finding codes), so a job's verdict sees fact-checks published on this service."""
    fakes = [m for m in matches if m.match.bank_kind == "known_fake"]
    official = [m for m in matches if m.match.bank_kind == "authentic"]
    findings: list[Finding] = []
    for m in fakes[:5]:
        label, kind = m.match.entry.label, m.match.signal_type.value
        message = f"matches known fake {label!r} published on this service ({kind})"
        findings.append(Finding("known_fakes.match", message, m.match.detail()))
    for m in official[:5]:
        code = "official_media.exact" if m.match.exact else "official_media.altered"
        what = "an identical copy of" if m.match.exact else "an altered near-duplicate of"
        message = f"{what} registered official media {m.match.entry.label!r}"
        findings.append(Finding(code, message, m.match.detail()))
    if not findings:
        return [Signal.abstain("service_banks", "no match in this service's banks")]
    score = 0.97 if fakes else (0.0 if all(m.match.exact for m in official) else 0.85)
    return [Signal("service_banks", score, 0.9, findings[0].message, findings=tuple(findings))]
