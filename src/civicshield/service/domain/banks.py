"""Banks in the database, one live matcher per bank, and TLP-aware visibility.

Visibility (TLP 2.0 on the community of organizations using this service): an organization sees every entry
of its own banks; other organizations see entries labelled CLEAR or GREEN. AMBER, AMBER+STRICT and RED stay
with the owner (sharing them with named recipients goes through subscriptions and exports, which check the
label again). An entry's label is the more restrictive of its own and its bank's.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from sqlalchemy import event, func, or_, select
from sqlalchemy.orm import Session

from civicshield.banks import Bank, BankEntry, BankKind, BankMatch, BankMatcher
from civicshield.banks.policy import DEFAULT_POLICY, MatchPolicy
from civicshield.errors import Conflict, Forbidden, NotFound, UsageError
from civicshield.hashing.cache import MediaHashes, PdqQuery
from civicshield.hashing.pdq import hex_to_codes
from civicshield.service.domain import alerts, audit
from civicshield.service.domain.live_index import CHUNK_ROWS, PdqCodes, other_rows, pdq_rows
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role
from civicshield.service.domain.store import TLPS
from civicshield.service.domain.tables import BankEntryRow, BankRow, Case, Organization
from civicshield.service.infra.db.engine import Database
from civicshield.signals import Finding, Signal

SHARED_WITH_COMMUNITY = ("CLEAR", "GREEN")
#: The audience of anonymous answers (the public /verify page). TLP:GREEN stays within the community and
#: excludes public channels, so the public hears only of entries that are public themselves (TLP:CLEAR) or
#: belong to a published TLP:CLEAR fact-check, and not even that other entries exist.
PUBLIC_ORG = 0


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
    """Append entries the bank does not hold yet. Only the owner's reviewers and admins write to a bank.

    Every way entries arrive (the bank API and pages, a published fact-check) comes through here, so this is
    where the ``bank.entry_added`` event is queued: once per call that added anything, in its transaction."""
    if bank.org_id != who.org_id:
        raise NotFound("no such bank")
    if not who.can(Role.REVIEWER):
        raise Forbidden("reviewers and admins add bank entries")
    label = stricter(tlp or bank.tlp, bank.tlp)
    if not entries:
        return []
    # Lock the bank row (and read its current revision) before inserting: writers of one bank take turns,
    # so its row ids are committed in increasing order, which the live indexes' incremental reads rely on.
    s.refresh(bank, with_for_update=True)
    existing = _existing_keys(
        s, bank.id, [(e.signal_type.value, value_key(e.signal_type.value, e.hash)) for e in entries]
    )
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
    if rows:
        event.listen(s, "after_commit", _local_writes.note, once=True)
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
        alerts.bank_entries_added(s, bank, rows)
    return rows


def _existing_keys(s: Session, bank_id: int, keys: list[tuple[str, str]]) -> set[str]:
    """Which of these ``(signal_type, value_key)`` the bank holds, asked a slice at a time along its unique
    index (a bank may hold millions of entries)."""
    by_type: dict[str, list[str]] = {}
    for signal_type, key in keys:
        by_type.setdefault(signal_type, []).append(key)
    found: set[str] = set()
    for signal_type, wanted in by_type.items():
        for i in range(0, len(wanted), 1000):
            q = select(BankEntryRow.value_key).where(
                BankEntryRow.bank_id == bank_id,
                BankEntryRow.signal_type == signal_type,
                BankEntryRow.value_key.in_(wanted[i : i + 1000]),
            )
            found.update(s.scalars(q))
    return found


def visible_counts(s: Session, who: Principal, rows: Sequence[BankRow]) -> dict[int, int]:
    """How many entries of each bank ``who`` may read (never counting the ones hidden by their TLP)."""
    counts: dict[int, int] = {}
    own = [r.id for r in rows if r.org_id == who.org_id]
    others = [r.id for r in rows if r.org_id != who.org_id]
    for ids, shared_only in ((own, False), (others, True)):
        if not ids:
            continue
        q = select(BankEntryRow.bank_id, func.count()).where(BankEntryRow.bank_id.in_(ids))
        if shared_only:
            q = q.where(BankEntryRow.tlp.in_(SHARED_WITH_COMMUNITY))
        counts.update({bank_id: int(n) for bank_id, n in s.execute(q.group_by(BankEntryRow.bank_id))})
    return counts


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


@dataclass(frozen=True)
class LiveStats:
    """What the live index holds, for operators and benchmarks."""

    banks: int
    pdq_codes: int
    other_entries: int
    pdq_bytes: int  # codes, ids and index tables
    last_sync_s: float  # how long the last sync that read rows took


@dataclass(frozen=True)
class _BankInfo:
    id: int
    org_id: int
    name: str
    kind: str
    tlp: str
    revision: int

    def shared_with(self, org_id: int) -> bool:
        """Whether ``org_id`` may see any entry: an entry's label is never laxer than its bank's."""
        return visible(org_id, self.org_id, self.tlp)


@dataclass(frozen=True)
class _LiveBank:
    """One bank in memory. Immutable: a sync builds the next version while readers use this one."""

    info: _BankInfo
    pdq: PdqCodes
    others: BankMatcher  # sha256, vPDQ and Chromaprint entries: few, held as ``BankEntry`` objects
    other_entries: tuple[BankEntry, ...]
    other_rows: dict[tuple[str, str], int]  # entry key -> bank_entries.id
    others_last_id: int


class _LocalWrites:
    """Counts commits that added bank entries in this process, so that this process's live indexes see
    its own writes at once instead of after ``max_lag_s``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def note(self, _session: Session) -> None:
        with self._lock:
            self.count += 1


_local_writes = _LocalWrites()


class LiveIndex:
    """Every bank of the database in memory, for matching: PDQ codes in a lean index per bank
    (``service.live_index``), other signal types in a ``BankMatcher`` per bank. Loaded from the database at
    start (``rebuild``) and followed by bank revision (``sync``): a changed bank reads only its new rows.

    ``match`` syncs first when this process committed entries since the last sync, or when ``max_lag_s``
    has passed (writes of other processes: API replicas, workers). Readers never wait on another thread's
    periodic sync, and a bank's new version is swapped in when ready.
    """

    def __init__(
        self,
        db: Database,
        *,
        policy: MatchPolicy = DEFAULT_POLICY,
        max_lag_s: float = 0.5,
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        self.db = db
        self.policy = policy
        self.max_lag_s = max_lag_s
        self.chunk_rows = chunk_rows
        self._banks: dict[int, _LiveBank] = {}
        self._sync_lock = threading.Lock()
        self._synced_at = -math.inf
        self._seen_writes = -1
        self._last_sync_s = 0.0

    def rebuild(self) -> None:
        """Load every bank from scratch (at start); readers keep the old state until the new one is ready."""
        with self._sync_lock:
            self._sync(fresh=True)

    def sync(self) -> None:
        """Follow bank revisions in the database (one row per bank), reading the new rows of changed banks.
        Works across processes: any API process or worker that adds entries bumps the revision."""
        with self._sync_lock:
            self._sync(fresh=False)

    def refresh(self, bank_id: int) -> None:
        """Read one bank's new rows now."""
        with self._sync_lock, self.db.reading() as s:
            row = s.execute(_BANK_INFO.where(BankRow.id == bank_id)).one_or_none()
            banks = dict(self._banks)
            if row is None:
                banks.pop(bank_id, None)
            else:
                info = _BankInfo(*row)
                banks[bank_id] = self._load(s, info, banks.get(bank_id))
            self._banks = banks

    def _sync(self, *, fresh: bool) -> None:
        writes, started = _local_writes.count, time.monotonic()
        read_rows = False
        with self.db.reading() as s:
            current = [_BankInfo(*row) for row in s.execute(_BANK_INFO.order_by(BankRow.id))]
            old = {} if fresh else self._banks
            banks: dict[int, _LiveBank] = {}
            for info in current:
                live = old.get(info.id)
                if live is None or live.info.revision != info.revision:
                    live, read_rows = self._load(s, info, live), True
                elif live.info != info:
                    live = _rebanked(live, info)
                banks[info.id] = live
        self._banks = banks
        self._seen_writes, self._synced_at = writes, started
        if read_rows:
            self._last_sync_s = time.monotonic() - started

    def _load(self, s: Session, info: _BankInfo, live: _LiveBank | None) -> _LiveBank:
        """``live`` (or an empty bank) plus the rows added since it was read."""
        pdq = live.pdq if live else PdqCodes()
        codes, ids = pdq_rows(s, info.id, pdq.last_id, self.policy.pdq_min_quality, self.chunk_rows)
        pdq = pdq.extended(codes, ids) if live else PdqCodes.build(codes, ids)
        entries = live.other_entries if live else ()
        keys = dict(live.other_rows) if live else {}
        last_id = live.others_last_id if live else 0
        added = []
        for row in other_rows(s, info.id, last_id, self.chunk_rows):
            entry = to_entry(row)
            keys[entry.key], last_id = row.id, row.id
            added.append(entry)
        if live is not None and not added and live.info.name == info.name and live.info.kind == info.kind:
            return _LiveBank(info, pdq, live.others, entries, keys, last_id)
        entries += tuple(added)
        bank = Bank(_safe_name(info), BankKind(info.kind), entries)
        return _LiveBank(info, pdq, BankMatcher([bank], self.policy), entries, keys, last_id)

    def _maybe_sync(self) -> None:
        if _local_writes.count != self._seen_writes:
            self.sync()  # this process wrote: wait for a sync that sees it
        elif time.monotonic() - self._synced_at >= self.max_lag_s and self._sync_lock.acquire(blocking=False):
            try:
                self._sync(fresh=False)
            finally:
                self._sync_lock.release()

    def __len__(self) -> int:
        return sum(len(b.pdq) + len(b.other_entries) for b in self._banks.values())

    def stats(self) -> LiveStats:
        banks = list(self._banks.values())
        return LiveStats(
            banks=len(banks),
            pdq_codes=sum(len(b.pdq) for b in banks),
            other_entries=sum(len(b.other_entries) for b in banks),
            pdq_bytes=sum(b.pdq.nbytes for b in banks),
            last_sync_s=self._last_sync_s,
        )

    def match(
        self, org_id: int, hashes: MediaHashes, kinds: Iterable[str] = ("known_fake", "authentic")
    ) -> list[LiveMatch]:
        """Every entry ``org_id`` may see that the item matches, best first."""
        wanted = set(kinds)
        self._maybe_sync()
        queries = hashes.pdq_queries(self.policy.pdq_min_quality)
        codes = hex_to_codes([q.hash.hex for q in queries])
        found: list[tuple[_LiveBank, int, BankMatch | _PdqHit]] = []
        for live in self._banks.values():
            if live.info.kind in wanted and live.info.shared_with(org_id):
                found.extend(_bank_matches(live, hashes, codes, queries, self.policy.pdq_max_distance))
        if not found:
            return []
        with self.db.reading() as s:
            rows = {
                r.id: r
                for r in s.scalars(select(BankEntryRow).where(BankEntryRow.id.in_({i for _, i, _ in found})))
            }
            public_cases = _public_cases(s, rows.values()) if org_id == PUBLIC_ORG else set()
        out: list[LiveMatch] = []
        for live, row_id, m in found:
            row = rows.get(row_id)
            if row is None:
                continue
            meta = EntryMeta(
                row.id, live.info.id, live.info.org_id, stricter(row.tlp, live.info.tlp), row.case_id
            )
            allowed = (
                meta.tlp == "CLEAR" or row.case_id in public_cases
                if org_id == PUBLIC_ORG
                else visible(org_id, meta.owner_org_id, meta.tlp)
            )
            if allowed:
                out.append(LiveMatch(m if isinstance(m, BankMatch) else m.to_match(live.info, row), meta))
        return sorted(out, key=lambda lm: -lm.match.strength)


def _public_cases(s: Session, rows: Iterable[BankEntryRow]) -> set[int]:
    """The cases among ``rows``' that are published TLP:CLEAR fact-checks (their pages are public)."""
    ids = {r.case_id for r in rows if r.case_id is not None}
    if not ids:
        return set()
    q = select(Case.id).where(Case.id.in_(ids), Case.state == "published", Case.tlp == "CLEAR")
    return set(s.scalars(q))


_BANK_INFO = select(BankRow.id, BankRow.org_id, BankRow.name, BankRow.kind, BankRow.tlp, BankRow.revision)


@dataclass(frozen=True)
class _PdqHit:
    distance: int
    oriented: bool
    turn: str | None = None

    @property
    def strength(self) -> float:
        return 1.0 - self.distance / 256

    def to_match(self, info: _BankInfo, row: BankEntryRow) -> BankMatch:
        entry = to_entry(row)
        return BankMatch(
            _safe_name(info),
            BankKind(info.kind),
            entry,
            distance=self.distance,
            oriented=self.oriented,
            turn=self.turn,
        )


def _bank_matches(
    live: _LiveBank, hashes: MediaHashes, codes: np.ndarray, queries: list[PdqQuery], radius: int
) -> list[tuple[_LiveBank, int, BankMatch | _PdqHit]]:
    """One bank's matches, best first: other signal types from its matcher, PDQ from its codes (one match per
    row; the picture as stored wins a tie, then the EXIF-oriented one, as in ``BankMatcher``)."""
    out: list[tuple[_LiveBank, int, BankMatch | _PdqHit]] = [
        (live, live.other_rows[m.entry.key], m) for m in live.others.match(hashes)
    ]
    pdq: dict[int, _PdqHit] = {}
    if len(codes) and len(live.pdq):
        for query, found in zip(queries, live.pdq.search(codes, radius), strict=True):
            for hit in found:
                if hit.id not in pdq or hit.distance < pdq[hit.id].distance:
                    pdq[hit.id] = _PdqHit(hit.distance, query.oriented, query.turn)
    out.extend(
        (live, row_id, hit) for row_id, hit in sorted(pdq.items(), key=lambda kv: (kv[1].distance, kv[0]))
    )
    return sorted(out, key=lambda t: -t[2].strength)


def _rebanked(live: _LiveBank, info: _BankInfo) -> _LiveBank:
    """The same entries under the bank's new name, kind or TLP."""
    if (live.info.name, live.info.kind) == (info.name, info.kind):
        return replace(live, info=info)
    bank = Bank(_safe_name(info), BankKind(info.kind), live.other_entries)
    return replace(live, info=info, others=BankMatcher([bank], live.others.policy))


def _safe_name(info: _BankInfo) -> str:
    return f"{info.name}"[:64]


def org_name(s: Session, org_id: int) -> str:
    org = s.get(Organization, org_id)
    return org.name if org else "unknown"


def signals_for(
    matches: Sequence[LiveMatch], item_sha256: str | None = None, policy: MatchPolicy = DEFAULT_POLICY
) -> list[Signal]:
    """The service's database banks as a signal the fusion policy reads like the library's bank analyzers:
    same finding codes, and the same scores from the one match policy (``MatchPolicy.known_fake`` /
    ``official``), so a verdict does not depend on which bank store found the match. An official entry
    registered from these very bytes is an identical copy, as in the library."""
    fakes = [m for m in matches if m.match.bank_kind == "known_fake"]
    official = [m for m in matches if m.match.bank_kind == "authentic"]

    def identical(m: LiveMatch) -> bool:
        return m.match.exact or (item_sha256 is not None and m.match.entry.original_sha256 == item_sha256)

    findings: list[Finding] = []
    for m in fakes[:5]:
        label, kind = m.match.entry.label, m.match.signal_type.value
        message = f"matches known fake {label!r} published on this service ({kind})"
        findings.append(Finding("known_fakes.match", message, m.match.detail()))
    for m in official[:5]:
        code = "official_media.exact" if identical(m) else "official_media.altered"
        what = "an identical copy of" if identical(m) else "an altered near-duplicate of"
        message = f"{what} registered official media {m.match.entry.label!r}"
        findings.append(Finding(code, message, m.match.detail()))
    if not findings:
        return [Signal.abstain("service_banks", "no match in this service's banks")]
    if fakes:
        score, confidence = policy.known_fake(exact=any(m.match.exact for m in fakes))
    else:
        score, confidence = policy.official(exact=all(identical(m) for m in official))
    return [Signal("service_banks", score, confidence, findings[0].message, findings=tuple(findings))]
