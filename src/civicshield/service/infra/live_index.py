"""The PDQ codes of one database bank in memory, lean enough for banks of ten million hashes.

A ``BankEntry`` object per row costs about a kilobyte; ten million of them do not fit. A bank's PDQ codes
live here as a PDQ index whose ids are ``bank_entries`` row ids, and nothing else: a hit's label, link,
TLP and case are read from the database for the hits only (``infra.bank_index.LiveIndex``). The index is a
flat scan for banks under ``SORTED_MIN`` codes and ``SortedMultiHashPdqIndex`` above, where the flat scan
falls behind (10M codes: 53 against ~1,000 look-ups/s; ``bench/bench_service_lookup.py``).

Rows are read in chunks of ``CHUNK_ROWS`` through a server-side cursor as plain tuples, never ORM objects.
When the bank's revision moves, only rows with an id above the last one seen are read, and they go into a
small flat *delta* index beside the main one; the main index is re-sorted from the codes in memory (not
from the database) once the delta passes ``DELTA_MAX``. Ids only grow within a bank because writers lock
the bank row while they insert (``banks.add_entries``).

``PdqCodes`` values are immutable: the syncing thread builds the next one while readers search the
current one, so readers take no lock.

Every process on a machine shares one copy of a large bank's sorted index (``PdqSnapshots``): the first
process to sort it saves the tables as files under the data folder, and every process (API processes,
workers, a restart) maps those files instead of sorting and holding its own copy. Only one process at a
time re-sorts a bank (a file lock); the others keep scanning their delta until the new files appear.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from civicshield.banks import SignalType
from civicshield.errors import BankFormatError
from civicshield.hashing.index import FlatPdqIndex, IndexHit, MappedSortedPdqIndex, SortedMultiHashPdqIndex
from civicshield.hashing.pdq import PDQ_BYTES, hex_to_codes
from civicshield.service.domain.tables import BankEntryRow

__all__ = ["CHUNK_ROWS", "DELTA_MAX", "SORTED_MIN", "PdqCodes", "PdqSnapshots", "other_rows", "pdq_rows"]

log = logging.getLogger(__name__)

SORTED_MIN = 50_000  # codes; below this the flat scan is as fast and needs no tables
# From here on, 12 chunks of 21-22 bits (fewer candidates per look-up, 134 MB of fixed offsets) beat 16 chunks
# of 16 bits: as fast at 1M codes, 2.3x faster at 10M (quiet 2-core VM).
NARROW_CHUNKS_MIN = 2_000_000
DELTA_MAX = 50_000  # codes added since the main index was sorted, scanned flat (~0.1 ms a look-up)
CHUNK_ROWS = 50_000


def _main_index(codes: np.ndarray, ids: np.ndarray) -> FlatPdqIndex:
    if len(ids) < SORTED_MIN:
        index = FlatPdqIndex()
    else:
        index = SortedMultiHashPdqIndex(12 if len(ids) >= NARROW_CHUNKS_MIN else 16)
    index.add(codes, ids)
    return index


@dataclass(frozen=True)
class PdqCodes:
    """One bank's PDQ codes: a main index, a delta of later rows, and the last row id read."""

    main: FlatPdqIndex = field(default_factory=FlatPdqIndex)
    delta: FlatPdqIndex = field(default_factory=FlatPdqIndex)
    last_id: int = 0

    @classmethod
    def build(cls, codes: np.ndarray, ids: np.ndarray) -> PdqCodes:
        return cls(main=_main_index(codes, ids), last_id=int(ids.max()) if len(ids) else 0)

    def __len__(self) -> int:
        return len(self.main) + len(self.delta)

    @property
    def nbytes(self) -> int:
        """Memory held by the codes, their ids and the main index's tables."""
        main = self.main.nbytes if isinstance(self.main, SortedMultiHashPdqIndex) else len(self.main) * 40
        return main + len(self.delta) * (PDQ_BYTES + 8)

    @property
    def outgrown(self) -> bool:
        """Whether the delta is past the size at which the main index should be re-sorted with it."""
        return len(self.delta) > DELTA_MAX

    @property
    def main_last_id(self) -> int:
        """The last row id in the main index (ids are in row order), 0 when it is empty."""
        return int(self.main.ids[-1]) if len(self.main) else 0

    def extended(self, codes: np.ndarray, ids: np.ndarray, *, resort: bool = True) -> PdqCodes:
        """These codes plus rows read later (ids above ``last_id``). Cheap while the delta stays small; once
        it is not, the main index is re-sorted with the delta in it, unless ``resort`` is false."""
        if len(ids) == 0:
            return self
        last_id = max(self.last_id, int(ids.max()))
        delta_codes = np.concatenate([self.delta.codes(), codes])
        delta_ids = np.concatenate([self.delta.ids, ids])
        outgrown = len(self.main) < SORTED_MIN <= len(self.main) + len(delta_ids)  # time for the sorted index
        if not resort or (len(delta_ids) <= DELTA_MAX and not outgrown):
            delta = FlatPdqIndex()
            delta.add(delta_codes, delta_ids)
            return PdqCodes(self.main, delta, last_id)
        main = _main_index(
            np.concatenate([self.main.codes(), delta_codes]), np.concatenate([self.main.ids, delta_ids])
        )
        return PdqCodes(main, FlatPdqIndex(), last_id)

    def search(self, codes: np.ndarray, radius: int) -> list[list[IndexHit]]:
        """For each query code, the rows within ``radius``, nearest first (ids are row ids)."""
        found = self.main.search_many(codes, radius)
        if len(self.delta):
            for hits, more in zip(found, self.delta.search_many(codes, radius), strict=True):
                hits.extend(more)
                hits.sort(key=lambda h: (h.distance, h.id))
        return found


class PdqSnapshots:
    """Banks' sorted PDQ indexes saved under ``root``, one folder per bank, quality floor and last row id,
    mapped read-only by every process that opens them (``MappedSortedPdqIndex``).

    A folder appears whole or not at all (written under a temporary name, then renamed); older folders of
    the same bank are removed once a newer one exists (processes still mapping them keep their mapping). A
    folder is only used after ``agrees`` checked it against the database: the number of rows up to its last
    id and a sample of their codes, so a data folder reused with another database is never trusted.
    """

    SAMPLE = 16  # rows whose codes are compared with the database when a saved index is opened

    def __init__(self, root: Path) -> None:
        self.root = root

    def _prefix(self, bank_id: int, min_quality: int) -> str:
        return f"bank{bank_id}-q{min_quality}-"

    def _saved(self, bank_id: int, min_quality: int) -> list[tuple[int, Path]]:
        prefix = self._prefix(bank_id, min_quality)
        try:
            names = [p for p in self.root.iterdir() if p.name.startswith(prefix)]
        except FileNotFoundError:
            return []
        found = [(int(p.name[len(prefix) :]), p) for p in names if p.name[len(prefix) :].isdigit()]
        return sorted(found, reverse=True)

    def latest(self, bank_id: int, min_quality: int, *, newer_than: int = 0) -> tuple[PdqCodes, Path] | None:
        """The newest saved index of the bank (as ``PdqCodes`` with no delta) above row ``newer_than``."""
        for last_id, folder in self._saved(bank_id, min_quality):
            if last_id <= newer_than:
                return None
            try:
                main = MappedSortedPdqIndex(folder)
            except BankFormatError:
                log.warning("ignoring the damaged saved PDQ index %s", folder)
                continue
            if len(main) and int(main.ids[-1]) == last_id:
                return PdqCodes(main=main, last_id=last_id), folder
        return None

    def save(self, bank_id: int, min_quality: int, codes: PdqCodes) -> PdqCodes:
        """``codes`` with its main index saved and mapped (the process's own copy is dropped)."""
        main = codes.main
        if not isinstance(main, SortedMultiHashPdqIndex) or isinstance(main, MappedSortedPdqIndex):
            return codes
        last_id = codes.main_last_id
        folder = self.root / f"{self._prefix(bank_id, min_quality)}{last_id}"
        self.root.mkdir(parents=True, exist_ok=True)
        tmp, old = (self.root / f".{kind}-{uuid.uuid4().hex}" for kind in ("tmp", "old"))
        try:
            main.save(tmp)
            if folder.exists():  # saved before but not trusted (``agrees``): this one replaces it
                os.rename(folder, old)
            os.rename(tmp, folder)
        except OSError:  # the disk is full, or the folder is not writable: this process keeps its copy
            log.warning("could not save the PDQ index of bank %s under %s", bank_id, self.root)
            return codes
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(old, ignore_errors=True)
        for older_id, older in self._saved(bank_id, min_quality):
            if older_id < last_id:
                shutil.rmtree(older, ignore_errors=True)
        return PdqCodes(MappedSortedPdqIndex(folder), codes.delta, codes.last_id)

    @contextlib.contextmanager
    def sorting(self, bank_id: int, *, wait: bool) -> Iterator[bool]:
        """Whether this process may sort the bank now: one process at a time across the machine. With
        ``wait`` (a first load, which has nothing to answer with meanwhile) it waits for its turn, and will
        usually find the index another process just saved."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / f"bank{bank_id}.lock").open("a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def agrees(self, s: Session, bank_id: int, min_quality: int, codes: PdqCodes) -> bool:
        """Whether the database holds the saved index's rows: as many rows up to its last id, with the
        same codes at a sample of them (the first, the last, and spread between)."""
        main = codes.main
        count = s.scalar(
            select(func.count())
            .select_from(BankEntryRow)
            .where(*_pdq_filter(bank_id, 0, min_quality), BankEntryRow.id <= codes.main_last_id)
        )
        if count != len(main):
            return False
        picks = np.unique(np.linspace(0, len(main) - 1, self.SAMPLE).astype(np.int64))
        want = {int(main.ids[p]): main.codes()[p].tobytes().hex() for p in picks}
        rows = s.execute(select(BankEntryRow.id, BankEntryRow.value).where(BankEntryRow.id.in_(want)))
        got = {row_id: value.lower() for row_id, value in rows}
        return got == want


def _pdq_filter(bank_id: int, after_id: int, min_quality: int) -> tuple[ColumnElement[bool], ...]:
    return (
        BankEntryRow.bank_id == bank_id,
        BankEntryRow.signal_type == "pdq",
        BankEntryRow.id > after_id,
        or_(BankEntryRow.quality.is_(None), BankEntryRow.quality >= min_quality),
    )


def pdq_rows(
    s: Session, bank_id: int, after_id: int, min_quality: int, chunk_rows: int = CHUNK_ROWS
) -> tuple[np.ndarray, np.ndarray]:
    """The bank's PDQ rows above ``after_id`` with enough quality, as ``(codes, ids)`` in id order.

    PostgreSQL sends them as fixed-width binary COPY records that numpy parses without a Python object per
    row (10M rows: ~15 s instead of ~90 s through SQLAlchemy rows); other databases stream ``yield_per``
    tuples."""
    rows = _Rows(chunk_rows)
    if s.get_bind().dialect.name == "postgresql":
        _copy_into(rows, s, bank_id, after_id, min_quality, chunk_rows)
    else:
        _select_into(rows, s, bank_id, after_id, min_quality, chunk_rows)
    return rows.codes[: rows.n], rows.ids[: rows.n]


class _Rows:
    """Codes and ids appended chunk by chunk into arrays grown by doubling: few, large allocations."""

    def __init__(self, capacity: int) -> None:
        self.codes = np.empty((capacity, PDQ_BYTES), dtype=np.uint8)
        self.ids = np.empty(capacity, dtype=np.int64)
        self.n = 0

    def append(self, codes: np.ndarray, ids: np.ndarray) -> None:
        end = self.n + len(ids)
        if end > len(self.ids):
            size = max(2 * len(self.ids), end)
            self.codes, self.ids = _grown(self.codes, size), _grown(self.ids, size)
        self.codes[self.n : end] = codes
        self.ids[self.n : end] = ids
        self.n = end


def _grown(a: np.ndarray, size: int) -> np.ndarray:
    out = np.empty((size, *a.shape[1:]), dtype=a.dtype)
    out[: len(a)] = a
    return out


def _select_into(
    rows: _Rows, s: Session, bank_id: int, after_id: int, min_quality: int, chunk_rows: int
) -> None:
    q = (
        select(BankEntryRow.id, BankEntryRow.value)
        .where(*_pdq_filter(bank_id, after_id, min_quality))
        .order_by(BankEntryRow.id)
        .execution_options(yield_per=chunk_rows)
    )
    for part in s.execute(q).partitions():
        ids = np.fromiter((row_id for row_id, _ in part), dtype=np.int64, count=len(part))
        rows.append(hex_to_codes([value for _, value in part]), ids)


_COPY_PDQ = (
    "COPY (SELECT id::int8, decode(value, 'hex') FROM bank_entries"
    " WHERE bank_id = %s AND signal_type = 'pdq' AND id > %s AND (quality IS NULL OR quality >= %s)"
    " ORDER BY id) TO STDOUT (FORMAT BINARY)"
)
# One binary COPY tuple: field count, then (length, value) per field.
_RECORD = np.dtype(
    [("fields", ">i2"), ("id_size", ">i4"), ("id", ">i8"), ("code_size", ">i4"), ("code", "u1", (PDQ_BYTES,))]
)
_HEADER = 19  # signature (11 bytes), flags (4), length of the header extension (4)
_TRAILER = b"\xff\xff"


def _copy_into(
    rows: _Rows, s: Session, bank_id: int, after_id: int, min_quality: int, chunk_rows: int
) -> None:
    raw = s.connection().connection.driver_connection
    assert raw is not None
    pending = bytearray()
    skip = -1  # bytes of header still to drop, once known
    with raw.cursor() as cur, cur.copy(_COPY_PDQ, (bank_id, after_id, min_quality)) as copy:
        for block in copy:
            pending += block
            if skip < 0 and len(pending) >= _HEADER:
                skip = _HEADER + int.from_bytes(pending[_HEADER - 4 : _HEADER], "big")
            if skip >= 0 and len(pending) >= skip + chunk_rows * _RECORD.itemsize:
                del pending[:skip]
                skip = 0
                rows.append(*_records(pending, bank_id))
    del pending[: max(skip, 0)]
    rows.append(*_records(pending, bank_id))
    if pending != _TRAILER:
        raise BankFormatError(f"bank {bank_id}: unexpected end of the PDQ rows COPY stream")


def _records(pending: bytearray, bank_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Parse and remove the whole records at the start of ``pending``."""
    n = len(pending) // _RECORD.itemsize
    records = np.frombuffer(pending, dtype=_RECORD, count=n)
    well_formed = (records["fields"] == 2) & (records["id_size"] == 8) & (records["code_size"] == PDQ_BYTES)
    if not well_formed.all():
        raise BankFormatError(f"bank {bank_id}: a PDQ value is not 64 hex digits")
    out = records["code"].copy(), records["id"].astype(np.int64)
    del records  # release the buffer before resizing it
    del pending[: n * _RECORD.itemsize]
    return out


def other_rows(
    s: Session, bank_id: int, after_id: int, chunk_rows: int = CHUNK_ROWS
) -> Iterator[BankEntryRow]:
    """The bank's rows of other signal types (sha256, vPDQ, Chromaprint) above ``after_id``, in id order.
    Named with ``IN`` rather than ``!= 'pdq'``: the signal type's index then finds the few of them instead
    of a scan past every PDQ row (10M rows: ~1 s on every change of the bank)."""
    others = [t.value for t in SignalType if t is not SignalType.PDQ]
    q = (
        select(BankEntryRow)
        .where(
            BankEntryRow.bank_id == bank_id, BankEntryRow.signal_type.in_(others), BankEntryRow.id > after_id
        )
        .order_by(BankEntryRow.id)
        .execution_options(yield_per=chunk_rows)
    )
    yield from s.scalars(q)
