"""PDQ indexes over faiss binary indexes: multi-index hashing (what HMA uses) and an exhaustive flat scan.

``MultiHashPdqIndex`` splits the 256 bits into ``nhash`` chunks of ``256 / nhash`` bits, one hash table each.
By the pigeonhole principle, two hashes within distance ``r`` agree on some chunk up to ``r // nhash`` bits,
so probing every chunk with ``nflip = r // nhash`` flipped bits finds *all* of them: with 16 chunks of 16 bits
and the PDQ threshold 31, one flipped bit per chunk suffices (17 probes per table). Results are exact, the
same as the flat scan, which ``tests/hashing/test_index.py`` checks on random data.

``FlatPdqIndex`` compares the query with every stored code (SIMD popcount), with no build cost.

Which to use, measured (``bench/bench_index.py``, one thread, 2-core VM): at the PDQ radius 31 the flat scan
is *faster* than multi-index hashing up to at least a million codes (1M: ~880 vs ~570 single look-ups per
second; 100k: ~7,500 vs ~6,800), builds in milliseconds instead of seconds (1M: 0.03 s vs 4.3 s) and takes
a seventh of the memory (42 MB vs 290 MB). Radius 31 forces 16-bit chunks, so each of the 272 probes lands
in a bucket that grows with the bank. The flat index is therefore the default of ``BankMatcher``; the
multi-hash index stays available (``BankMatcher(index=MultiHashPdqIndex)``) for parity with HMA's
``PDQMultiHashIndex`` and for smaller radii, the regime multi-index hashing is designed for (not measured).

``SortedMultiHashPdqIndex`` does the same probing over sorted arrays instead of hash tables and leaves
faiss only the storage and the Hamming distances. It is what banks of millions of codes need (10M codes:
~1,000 look-ups/s against 53 for the flat scan and 16 for faiss' multi-hash index; its docstring has the
numbers); ``service.live_index`` switches to it above 50,000 codes.

Ids are caller-chosen int64 values (bank entry numbers); faiss' internal positions are mapped back here.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any, cast

import faiss
import numpy as np

from civicshield.errors import BankFormatError
from civicshield.hashing.pdq import PDQ_BYTES, hex_to_codes

__all__ = [
    "PDQ_MATCH_DISTANCE",
    "FlatPdqIndex",
    "IndexHit",
    "MappedSortedPdqIndex",
    "MultiHashPdqIndex",
    "PdqIndex",
    "SortedMultiHashPdqIndex",
]

PDQ_BITS = 256
PDQ_MATCH_DISTANCE = 31


@dataclass(frozen=True)
class IndexHit:
    id: int
    distance: int


class PdqIndex(ABC):
    """Add PDQ codes with ids; find every stored code within a Hamming radius of a query."""

    def __init__(self) -> None:
        self._ids = np.zeros(0, dtype=np.int64)

    @property
    @abstractmethod
    def _faiss(self) -> Any: ...

    def __len__(self) -> int:
        return int(self._ids.size)

    @property
    def ids(self) -> np.ndarray:
        """The ids of the stored codes, in the order they were added (read-only)."""
        view = self._ids.view()
        view.flags.writeable = False
        return view

    def add(self, hashes: Sequence[str] | np.ndarray, ids: Sequence[int] | np.ndarray) -> None:
        """Add hex hashes (or ``(n, 32)`` uint8 codes) under the given ids."""
        codes = hashes if isinstance(hashes, np.ndarray) else hex_to_codes(list(hashes))
        id_arr = np.asarray(ids, dtype=np.int64)
        if codes.ndim != 2 or codes.shape[1] != PDQ_BYTES or codes.dtype != np.uint8:
            raise ValueError(f"PDQ codes must be (n, {PDQ_BYTES}) uint8, got {codes.shape} {codes.dtype}")
        if id_arr.shape != (codes.shape[0],):
            raise ValueError(f"{codes.shape[0]} hashes but {id_arr.size} ids")
        if codes.shape[0]:
            self._faiss.add(np.ascontiguousarray(codes))
            self._ids = np.concatenate([self._ids, id_arr])

    def search(self, query: str, radius: int = PDQ_MATCH_DISTANCE) -> list[IndexHit]:
        return self.search_many([query], radius)[0]

    def search_many(
        self, queries: Sequence[str] | np.ndarray, radius: int = PDQ_MATCH_DISTANCE
    ) -> list[list[IndexHit]]:
        """For each query, the stored entries within ``radius`` (inclusive), nearest first."""
        codes = queries if isinstance(queries, np.ndarray) else hex_to_codes(list(queries))
        if codes.shape[0] == 0:
            return []
        if len(self) == 0:
            return [[] for _ in range(codes.shape[0])]
        self._prepare(radius)
        # faiss keeps distances strictly below the radius it is given.
        lims, dists, positions = self._faiss.range_search(np.ascontiguousarray(codes), radius + 1)
        out = []
        for q in range(codes.shape[0]):
            lo, hi = int(lims[q]), int(lims[q + 1])
            hits = [
                IndexHit(int(self._ids[p]), int(d))
                for p, d in zip(positions[lo:hi], dists[lo:hi], strict=True)
            ]
            out.append(sorted(hits, key=lambda h: (h.distance, h.id)))
        return out

    def _prepare(self, radius: int) -> None:  # noqa: B027 - optional hook
        """Adjust search parameters for ``radius`` (the multi-hash index sets ``nflip``)."""


class FlatPdqIndex(PdqIndex):
    """Exhaustive Hamming scan (``faiss.IndexBinaryFlat``)."""

    def __init__(self) -> None:
        super().__init__()
        self._index = faiss.IndexBinaryFlat(PDQ_BITS)

    @property
    def _faiss(self) -> Any:
        return self._index

    def codes(self) -> np.ndarray:
        """The stored codes as ``(n, 32)`` uint8, in the order they were added: a read-only view of faiss'
        storage, valid until the next ``add``."""
        n = len(self)
        if n == 0:
            return np.zeros((0, PDQ_BYTES), dtype=np.uint8)
        storage: Any = self._index
        view = faiss.rev_swig_ptr(storage.xb.data(), n * PDQ_BYTES).reshape(n, PDQ_BYTES)
        view.flags.writeable = False
        return view


class MultiHashPdqIndex(PdqIndex):
    """Multi-index hashing (``faiss.IndexBinaryMultiHash``), exact for any radius via ``nflip``."""

    def __init__(self, nhash: int = 16) -> None:
        if nhash <= 0 or PDQ_BITS % nhash or (PDQ_BITS // nhash) > 64:
            raise ValueError(f"nhash must divide 256 into chunks of at most 64 bits, not {nhash}")
        super().__init__()
        self.nhash = nhash
        self._index = faiss.IndexBinaryMultiHash(PDQ_BITS, nhash, PDQ_BITS // nhash)

    @property
    def _faiss(self) -> Any:
        return self._index

    def _prepare(self, radius: int) -> None:
        self._index.nflip = radius // self.nhash


class SortedMultiHashPdqIndex(FlatPdqIndex):
    """Multi-index hashing over sorted arrays instead of hash tables, for banks of millions of codes.

    The codes stay in a flat faiss index (the storage). On top of it, each of ``nhash`` chunks of the 256
    bits (16 chunks of 16 bits by default; 12 gives chunks of 21-22 bits) has the positions of all codes
    sorted by that chunk's value and an offsets array with one slot per possible value. A probe is two
    array reads, its candidates a contiguous slice, and the candidates are checked with faiss' SIMD Hamming
    distance. Exact for the same reason as ``MultiHashPdqIndex``: within radius ``r``, some chunk differs
    in at most ``r // nhash`` bits (radius 31, 16 chunks: one flipped bit, 17 probes per chunk).

    faiss' multi-hash index does the same probing into ``unordered_map`` buckets and gathers candidates in
    a hash set. On 10M random codes, one thread, 2-core VM: faiss' multi-hash 16 look-ups/s, 2.7 GB, built
    in 35 s (other work running); the flat scan 53/s; here, 16 chunks ~970/s and 12 chunks ~2,250/s, 1.0 GB
    (88-104 bytes a code plus the offsets: 8 MB for 16 chunks, 134 MB for 12), sorted in 6-7 s. The time
    goes to fetching candidates' codes from memory: 16 chunks touch ~41,000 codes per look-up at 10M,
    12 chunks ~11,000 (for 2,872 probes instead of 272), which is why 12 pays off only for millions of
    codes (at 1M both do ~7,300/s). From about 30,000 codes on, 16 chunks beat the flat scan (100k: 3x).

    Every ``add`` re-sorts the tables (linear in the size): add in bulk, and keep trickling additions in a
    small flat index beside it, as ``service.live_index`` does.
    """

    def __init__(self, nhash: int = 16) -> None:
        if nhash % 4 or not 8 < nhash <= 64:
            raise ValueError(f"nhash must be a multiple of 4 between 12 and 64, not {nhash}")
        super().__init__()
        self.nhash = nhash
        per_word = nhash // 4
        self._chunks: list[tuple[int, int, int]] = []  # (word, shift, width), first bits first
        for word in range(4):
            widths = [64 // per_word + (i >= per_word - 64 % per_word) for i in range(per_word)]
            shift = 64
            for width in widths:
                shift -= width
                self._chunks.append((word, shift, width))
        sizes = [(1 << width) + 1 for _, _, width in self._chunks]
        self._table_base = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self._offsets: np.ndarray = np.zeros(0, dtype=np.int64)
        self._positions = np.zeros(0, dtype=np.int32)
        self._probes: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def add(self, hashes: Sequence[str] | np.ndarray, ids: Sequence[int] | np.ndarray) -> None:
        super().add(hashes, ids)
        self._sort_tables()

    @property
    def nbytes(self) -> int:
        """Memory held: codes, ids and tables."""
        return len(self) * (PDQ_BYTES + 8) + self._offsets.nbytes + self._positions.nbytes

    def _words(self) -> np.ndarray:
        """The stored codes as ``(n, 4)`` big-endian 64-bit words (a view)."""
        return self.codes().view(">u8")

    def _sort_tables(self) -> None:
        words, n = self._words(), len(self)
        self._positions = np.empty(0, dtype=np.int32)  # the old tables go before the new ones are made
        positions = np.empty(len(self._chunks) * n, dtype=np.int32)
        wide = len(self._chunks) * n >= 2**31
        size = int(self._table_base[-1]) + (1 << self._chunks[-1][2]) + 1
        offsets: np.ndarray = np.empty(size, dtype=np.int64 if wide else np.int32)
        for t, (word, shift, width) in enumerate(self._chunks):
            keys = ((words[:, word] >> np.uint64(shift)) & np.uint64((1 << width) - 1)).astype(np.uint32)
            positions[t * n : (t + 1) * n] = _stable_order(keys)
            table = offsets[self._table_base[t] : self._table_base[t] + (1 << width) + 1]
            table[0] = 0
            np.cumsum(np.bincount(keys, minlength=1 << width), out=table[1:])
            table += t * n
        self._offsets, self._positions = offsets, positions

    def _probe_plan(self, nflip: int) -> tuple[np.ndarray, np.ndarray]:
        """For every probe: its chunk, and the bits it flips in the query's chunk value."""
        if nflip not in self._probes:
            chunk, flips = [], []
            for t, (_, _, width) in enumerate(self._chunks):
                masks = [
                    sum(1 << b for b in bits)
                    for k in range(nflip + 1)
                    for bits in combinations(range(width), k)
                ]
                chunk.extend([t] * len(masks))
                flips.extend(masks)
            self._probes[nflip] = (np.asarray(chunk, dtype=np.intp), np.asarray(flips, dtype=np.int64))
        return self._probes[nflip]

    def search_many(
        self, queries: Sequence[str] | np.ndarray, radius: int = PDQ_MATCH_DISTANCE
    ) -> list[list[IndexHit]]:
        nflip = radius // self.nhash
        if nflip > 2:  # probes grow as width ** nflip: scan instead
            return self._scan(queries, radius)
        chunk, flips = self._probe_plan(nflip)
        if len(self) < 4 * len(flips):  # a small index: the scan is cheaper
            return self._scan(queries, radius)
        codes = queries if isinstance(queries, np.ndarray) else hex_to_codes(list(queries))
        words = self._words()
        base = self._table_base[chunk]
        return [self._search_one(np.ascontiguousarray(q), words, chunk, flips, base, radius) for q in codes]

    def _scan(self, queries: Sequence[str] | np.ndarray, radius: int) -> list[list[IndexHit]]:
        return super().search_many(queries, radius)

    def save(self, folder: Path) -> None:
        """Write the codes, ids and tables as ``.npy`` files in ``folder`` (made here), for
        ``MappedSortedPdqIndex``: several processes then share one copy through the page cache."""
        folder.mkdir(parents=True)
        arrays = {
            "codes": self.codes(),
            "ids": self._ids,
            "offsets": self._offsets,
            "positions": self._positions,
        }
        for name, array in arrays.items():
            np.save(folder / f"{name}.npy", array, allow_pickle=False)
        (folder / "index.json").write_text(json.dumps({"nhash": self.nhash, "codes": len(self)}))

    def _search_one(
        self,
        query: np.ndarray,
        words: np.ndarray,
        chunk: np.ndarray,
        flips: np.ndarray,
        base: np.ndarray,
        radius: int,
    ) -> list[IndexHit]:
        qwords = [int(w) for w in np.frombuffer(query.tobytes(), dtype=">u8")]
        values = np.array([(qwords[w] >> s) & ((1 << b) - 1) for w, s, b in self._chunks], dtype=np.int64)
        slots = (values[chunk] ^ flips) + base
        starts = self._offsets[slots]
        lengths = self._offsets[slots + 1] - starts
        starts = starts.astype(np.int64)
        total = int(lengths.sum())
        if total == 0:
            return []
        # the probes' slices of the position tables, end to end
        at = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths - starts, lengths)
        candidates = np.take(self._positions, at)
        gathered = np.ascontiguousarray(np.take(words, candidates, axis=0))
        dist = _hamming(query, gathered.view(np.uint8))
        near = dist <= radius
        found: dict[int, int] = dict(zip(candidates[near].tolist(), dist[near].tolist(), strict=True))
        hits = [IndexHit(int(self._ids[p]), d) for p, d in found.items()]
        return sorted(hits, key=lambda h: (h.distance, h.id))


class MappedSortedPdqIndex(SortedMultiHashPdqIndex):
    """A ``SortedMultiHashPdqIndex`` read from the files ``save`` wrote, mapped read-only into memory.

    Nothing is copied: every process that opens the same folder shares the operating system's one cached
    copy of the files (10M codes: ~1 GB once, not once per API process), and opening takes milliseconds
    instead of the sort's seconds. Searches are the same code as the in-memory index's; the fallback scan
    (radii past two flipped bits a chunk, or a tiny index) compares against the mapped codes in slices.
    ``add`` is refused: build a new index and save it instead.
    """

    SCAN_SLICE = 1 << 20  # codes compared per faiss call in the fallback scan

    def __init__(self, folder: Path) -> None:
        self._codes: np.ndarray
        try:
            meta = json.loads((folder / "index.json").read_text())
            super().__init__(int(meta["nhash"]))
            self._codes = _mapped(folder / "codes.npy")
            self._ids = _mapped(folder / "ids.npy")
            self._offsets = _mapped(folder / "offsets.npy")
            self._positions = _mapped(folder / "positions.npy")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BankFormatError(f"{folder}: not a saved PDQ index ({exc})") from exc
        n = int(meta["codes"])
        expected_offsets = int(self._table_base[-1]) + (1 << self._chunks[-1][2]) + 1
        if (
            self._codes.shape != (n, PDQ_BYTES)
            or self._codes.dtype != np.uint8
            or self._ids.shape != (n,)
            or self._positions.shape != (len(self._chunks) * n,)
            or self._offsets.shape != (expected_offsets,)
        ):
            raise BankFormatError(f"{folder}: the saved PDQ index's arrays do not fit together")

    def __len__(self) -> int:
        return int(self._ids.shape[0])

    def codes(self) -> np.ndarray:
        return self._codes

    def add(self, hashes: Sequence[str] | np.ndarray, ids: Sequence[int] | np.ndarray) -> None:
        raise TypeError("a mapped PDQ index is read-only: build and save a new one")

    def _scan(self, queries: Sequence[str] | np.ndarray, radius: int) -> list[list[IndexHit]]:
        codes = queries if isinstance(queries, np.ndarray) else hex_to_codes(list(queries))
        out: list[list[IndexHit]] = []
        for q in codes:
            query = np.ascontiguousarray(q)
            hits: list[IndexHit] = []
            for start in range(0, len(self), self.SCAN_SLICE):
                dist = _hamming(query, np.ascontiguousarray(self._codes[start : start + self.SCAN_SLICE]))
                near = np.flatnonzero(dist <= radius)
                hits += [IndexHit(int(self._ids[start + p]), int(dist[p])) for p in near]
            out.append(sorted(hits, key=lambda h: (h.distance, h.id)))
        return out


def _hamming(query: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Hamming distances from one contiguous 32-byte code to each row of contiguous ``(n, 32)`` codes
    (faiss' SIMD popcount)."""
    dist = np.empty(len(codes), dtype=np.int32)
    cast(Any, faiss).hammings(
        faiss.swig_ptr(query), faiss.swig_ptr(codes), 1, len(codes), PDQ_BYTES, faiss.swig_ptr(dist)
    )
    return dist


def _mapped(path: Path) -> np.ndarray:
    """A ``.npy`` file mapped read-only, as a plain array: slicing a ``np.memmap`` makes a memmap object
    each time, which cost a tenth of a look-up."""
    array: np.ndarray = np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)
    return array


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """``argsort(keys, kind="stable")`` for keys below 2**32, as radix sorts on 16-bit halves."""
    low = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    high = (keys >> 16).astype(np.uint16)
    if not high.any():
        return low
    return low[np.argsort(high[low], kind="stable")]
