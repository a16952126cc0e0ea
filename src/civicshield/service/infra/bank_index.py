"""The live index: every bank of the service's database in memory, for matching, and one organization's view
of it as a ``BankSource`` for the library's bank analyzers.

PDQ codes sit in a lean index per bank (``infra.live_index``), other signal types in a ``BankMatcher`` per
bank. Visibility is ``domain.banks``' TLP rule, applied to every hit.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from civicshield.banks import Bank, BankEntry, BankKind, BankMatch, BankMatcher, SignalType
from civicshield.banks.policy import DEFAULT_POLICY, MatchPolicy
from civicshield.hashing.cache import MediaHashes, PdqQuery
from civicshield.hashing.index import IndexHit
from civicshield.hashing.pdq import hex_to_codes
from civicshield.service.domain import reads
from civicshield.service.domain.banks import (
    ENTRIES_ADDED,
    PUBLIC_ORG,
    to_entry,
    visible,
)
from civicshield.service.domain.matches import EntryMeta, LiveMatch
from civicshield.service.domain.tables import BankEntryRow, BankRow, Case
from civicshield.service.infra.db.engine import Database
from civicshield.service.infra.live_index import CHUNK_ROWS, PdqCodes, PdqSnapshots, other_rows, pdq_rows
from civicshield.sharing.tlp import TLP

log = logging.getLogger(__name__)


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
    tlp: TLP
    revision: int
    pdq_max_distance: int | None = None  # the bank's own, stricter PDQ distance

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

    def note(self, session: Session) -> None:
        if session.info.pop(ENTRIES_ADDED, None):
            with self._lock:
                self.count += 1

    @staticmethod
    def forget(session: Session) -> None:
        session.info.pop(ENTRIES_ADDED, None)  # rolled back: nothing was added


_local_writes = _LocalWrites()
event.listen(Session, "after_commit", _local_writes.note)
event.listen(Session, "after_rollback", _local_writes.forget)


class LiveIndex:
    """Every bank of the database in memory, for matching: PDQ codes in a lean index per bank
    (``service.live_index``), other signal types in a ``BankMatcher`` per bank. Loaded from the database at
    start (``rebuild``) and followed by bank revision (``sync``): a changed bank reads only its new rows.

    ``match`` syncs first when this process committed entries since the last sync, or when ``max_lag_s``
    has passed (writes of other processes: API replicas, workers). Readers never wait on another thread's
    periodic sync, and a bank's new version is swapped in when ready. An API process calls ``follow``
    instead, so that the lag syncs (and a large bank's occasional re-sort) run in a thread of their own
    rather than inside a request.

    With ``snapshots``, large banks' sorted indexes are shared by the processes of this machine
    (``live_index.PdqSnapshots``).
    """

    def __init__(
        self,
        db: Database,
        *,
        policy: MatchPolicy = DEFAULT_POLICY,
        max_lag_s: float = 0.5,
        chunk_rows: int = CHUNK_ROWS,
        snapshots: PdqSnapshots | None = None,
    ) -> None:
        self.db = db
        self.snapshots = snapshots
        self._following = threading.Event()
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
                if live is None or live.info.revision != info.revision or live.pdq.outgrown:
                    live, read_rows = self._load(s, info, live), True
                elif live.info != info:
                    live = _rebanked(live, info)
                banks[info.id] = live
        self._banks = banks
        self._seen_writes, self._synced_at = writes, started
        if read_rows:
            self._last_sync_s = time.monotonic() - started

    def follow(self, stop: threading.Event) -> threading.Thread:
        """Sync every ``max_lag_s`` in a thread of its own until ``stop`` is set; requests then only sync
        for this process's own writes."""

        def run() -> None:
            while not stop.wait(self.max_lag_s):
                try:
                    self.sync()
                except Exception:  # the next round tries again; matching goes on with what is loaded
                    log.exception("live index sync failed")

        self._following.set()
        thread = threading.Thread(target=run, name="live-index-sync", daemon=True)
        thread.start()
        return thread

    def _load(self, s: Session, info: _BankInfo, live: _LiveBank | None) -> _LiveBank:
        """``live`` (or an empty bank) plus the rows added since it was read."""
        pdq = self._pdq(s, info.id, live.pdq if live else None)
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

    def _pdq(self, s: Session, bank_id: int, pdq: PdqCodes | None) -> PdqCodes:
        """A bank's PDQ codes: ``pdq`` (None: nothing loaded yet) plus the rows added since. With
        snapshots: a newer index another process saved replaces the main one, and a bank that needs
        sorting is sorted by one process at a time and saved for the others."""
        q = self.policy.pdq_min_quality
        if self.snapshots is None:
            codes, ids = pdq_rows(s, bank_id, pdq.last_id if pdq else 0, q, self.chunk_rows)
            return pdq.extended(codes, ids) if pdq else PdqCodes.build(codes, ids)
        with self.snapshots.sorting(bank_id, wait=pdq is None) as may_sort:
            newer = self.snapshots.latest(bank_id, q, newer_than=pdq.main_last_id if pdq else 0)
            if newer is not None and self.snapshots.agrees(s, bank_id, q, newer[0]):
                pdq = newer[0]  # its rows; the ones added after it are read below
            codes, ids = pdq_rows(s, bank_id, pdq.last_id if pdq else 0, q, self.chunk_rows)
            pdq = pdq.extended(codes, ids, resort=may_sort) if pdq else PdqCodes.build(codes, ids)
            return self.snapshots.save(bank_id, q, pdq) if may_sort else pdq

    def _maybe_sync(self) -> None:
        if _local_writes.count != self._seen_writes:
            self.sync()  # this process wrote: wait for a sync that sees it
        elif self._following.is_set():
            return
        elif time.monotonic() - self._synced_at >= self.max_lag_s and self._sync_lock.acquire(blocking=False):
            try:
                self._sync(fresh=False)
            finally:
                self._sync_lock.release()

    def __len__(self) -> int:
        return sum(len(b.pdq) + len(b.other_entries) for b in self._banks.values())

    def banks_of(self, kind: BankKind, org_id: int) -> list[_LiveBank]:
        """The banks of ``kind`` of which ``org_id`` may see entries (entries are filtered again per hit)."""
        self._maybe_sync()
        return [b for b in self._banks.values() if b.info.kind == kind.value and b.info.shared_with(org_id)]

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
        self, org_id: int, hashes: MediaHashes, kinds: Iterable[str] = tuple(BankKind)
    ) -> list[LiveMatch]:
        """Every entry ``org_id`` may see that the item matches, best first."""
        return self.match_many(org_id, [hashes], kinds)[0]

    def match_many(
        self, org_id: int, items: Sequence[MediaHashes], kinds: Iterable[str] = tuple(BankKind)
    ) -> list[list[LiveMatch]]:
        """``match`` for several items: each bank's PDQ codes searched once for all of them, and the rows
        of every hit read in one query."""
        wanted = set(kinds)
        self._maybe_sync()
        queries = [h.pdq_queries(self.policy.pdq_min_quality) for h in items]
        starts = np.cumsum([0, *(len(q) for q in queries)])  # item i's queries: flat[starts[i]:starts[i + 1]]
        flat = [q for item in queries for q in item]
        codes = hex_to_codes([q.hash.hex for q in flat])
        found: list[list[tuple[_LiveBank, int, BankMatch | _PdqHit]]] = [[] for _ in items]
        for live in self._banks.values():
            if live.info.kind in wanted and live.info.shared_with(org_id):
                radius = min(
                    live.info.pdq_max_distance or self.policy.pdq_max_distance, self.policy.pdq_max_distance
                )
                hits = live.pdq.search(codes, radius) if len(codes) and len(live.pdq) else [[] for _ in flat]
                for i, hashes in enumerate(items):
                    mine = list(zip(queries[i], hits[starts[i] : starts[i + 1]], strict=True))
                    found[i].extend(_bank_matches(live, hashes, mine))
        if not any(found):
            return [[] for _ in items]
        with self.db.reading() as s:
            rows = {
                r.id: r
                for r in s.scalars(
                    select(BankEntryRow).where(
                        BankEntryRow.id.in_({i for item in found for _, i, _ in item}),
                        BankEntryRow.disabled_at.is_(None),  # a disabled entry matches nothing
                    )
                )
            }
            public_cases = _public_cases(s, rows.values()) if org_id == PUBLIC_ORG else set()
        return [self._visible(org_id, item, rows, public_cases) for item in found]

    @staticmethod
    def _visible(
        org_id: int,
        found: list[tuple[_LiveBank, int, BankMatch | _PdqHit]],
        rows: dict[int, BankEntryRow],
        public_cases: set[int],
    ) -> list[LiveMatch]:
        out: list[LiveMatch] = []
        for live, row_id, m in found:
            row = rows.get(row_id)
            if row is None:
                continue
            meta = EntryMeta(row.id, live.info.id, live.info.org_id, max(row.tlp, live.info.tlp), row.case_id)
            allowed = (
                meta.tlp is TLP.CLEAR or row.case_id in public_cases
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
    q = select(Case.id).where(Case.id.in_(ids), reads.PUBLIC_FACT_CHECK)
    return set(s.scalars(q))


_BANK_INFO = select(
    BankRow.id,
    BankRow.org_id,
    BankRow.name,
    BankRow.kind,
    BankRow.tlp,
    BankRow.revision,
    BankRow.pdq_max_distance,
)


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
    live: _LiveBank, hashes: MediaHashes, pdq_hits: list[tuple[PdqQuery, list[IndexHit]]]
) -> list[tuple[_LiveBank, int, BankMatch | _PdqHit]]:
    """One bank's matches of one item, best first: other signal types from its matcher, PDQ from the hits
    of the item's PDQ queries in the bank's codes (one match per row; the picture as stored wins a tie,
    then the EXIF-oriented one, as in ``BankMatcher``)."""
    out: list[tuple[_LiveBank, int, BankMatch | _PdqHit]] = [
        (live, live.other_rows[m.entry.key], m) for m in live.others.match(hashes)
    ]
    pdq: dict[int, _PdqHit] = {}
    for query, found in pdq_hits:
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


class OrgBanks:
    """One organization's view of the live index, for one bank kind: the ``BankSource`` that the library's
    ``known_fakes`` and ``official_media`` analyzers read in an analysis job, so the service decides with
    the same analyzers and the one ``MatchPolicy`` as the command line.

    It remembers what the last item it looked up matched (``found``), with the rows' metadata, which the job
    announces as ``match.found``. Near misses are not searched here: the live index answers within the match
    distance only.
    """

    def __init__(self, live: LiveIndex, org_id: int, kind: BankKind) -> None:
        self.live = live
        self.org_id = org_id
        self.kind = kind
        self.found: list[LiveMatch] = []
        self._looked_up: str | None = None

    @property
    def policy(self) -> MatchPolicy:
        return self.live.policy

    def _banks(self) -> list[_LiveBank]:
        return self.live.banks_of(self.kind, self.org_id)

    def __len__(self) -> int:
        return sum(len(b.pdq) + len(b.other_entries) for b in self._banks())

    def describe(self) -> dict[str, Any]:
        banks = self._banks()
        return {
            "banks": sorted(_safe_name(b.info) for b in banks),
            "entries": sum(len(b.pdq) + len(b.other_entries) for b in banks),
            "policy_version": self.policy.version,
            "store": "service database",
        }

    def match(self, hashes: MediaHashes) -> list[BankMatch]:
        if self._looked_up != hashes.sha256:
            self.found = self.live.match(self.org_id, hashes, kinds=(self.kind.value,))
            self._looked_up = hashes.sha256
        return [m.match for m in self.found]

    def near_misses(self, hashes: MediaHashes, radius: int) -> list[BankMatch]:
        return []

    def has_audio_fingerprint(self, original_sha256: str) -> bool:
        return any(
            e.signal_type is SignalType.CHROMAPRINT and e.original_sha256 == original_sha256
            for b in self._banks()
            for e in b.other_entries
        )
