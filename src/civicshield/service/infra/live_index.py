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
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from civicshield.errors import BankFormatError
from civicshield.hashing.index import FlatPdqIndex, IndexHit, SortedMultiHashPdqIndex
from civicshield.hashing.pdq import PDQ_BYTES, hex_to_codes
from civicshield.service.domain.tables import BankEntryRow

__all__ = ["CHUNK_ROWS", "DELTA_MAX", "SORTED_MIN", "PdqCodes", "other_rows", "pdq_rows"]

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

    def extended(self, codes: np.ndarray, ids: np.ndarray) -> PdqCodes:
        """These codes plus rows read later (ids above ``last_id``). Cheap while the delta stays small."""
        if len(ids) == 0:
            return self
        last_id = max(self.last_id, int(ids.max()))
        delta_codes = np.concatenate([self.delta.codes(), codes])
        delta_ids = np.concatenate([self.delta.ids, ids])
        outgrown = len(self.main) < SORTED_MIN <= len(self.main) + len(delta_ids)  # time for the sorted index
        if len(delta_ids) <= DELTA_MAX and not outgrown:
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
        .where(
            BankEntryRow.bank_id == bank_id,
            BankEntryRow.signal_type == "pdq",
            BankEntryRow.id > after_id,
            or_(BankEntryRow.quality.is_(None), BankEntryRow.quality >= min_quality),
        )
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
    """The bank's rows of other signal types (sha256, vPDQ, Chromaprint) above ``after_id``, in id order."""
    q = (
        select(BankEntryRow)
        .where(BankEntryRow.bank_id == bank_id, BankEntryRow.signal_type != "pdq", BankEntryRow.id > after_id)
        .order_by(BankEntryRow.id)
        .execution_options(yield_per=chunk_rows)
    )
    yield from s.scalars(q)
