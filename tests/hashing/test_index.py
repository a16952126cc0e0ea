"""The multi-hash PDQ index returns exactly what the flat scan returns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from civicshield.errors import BankFormatError
from civicshield.hashing.index import (
    FlatPdqIndex,
    IndexHit,
    MappedSortedPdqIndex,
    MultiHashPdqIndex,
    SortedMultiHashPdqIndex,
)


def flip(code: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    unpacked = np.unpackbits(code)
    unpacked[rng.choice(256, size=bits, replace=False)] ^= 1
    return np.packbits(unpacked)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    stored = rng.integers(0, 256, size=(20_000, 32), dtype=np.uint8)
    ids = np.arange(20_000, dtype=np.int64) * 7919 + 10**12  # ours, not positions
    # Queries: planted near-duplicates at 0..40 bits from stored codes, plus fresh random codes.
    near = np.stack([flip(stored[i * 37], i % 41, rng) for i in range(200)])
    fresh = rng.integers(0, 256, size=(50, 32), dtype=np.uint8)
    return stored, ids, np.concatenate([near, fresh])


@pytest.mark.parametrize("nhash", [16, 8])
def test_multihash_equals_flat(data: tuple[np.ndarray, np.ndarray, np.ndarray], nhash: int) -> None:
    stored, ids, queries = data
    flat, multi = FlatPdqIndex(), MultiHashPdqIndex(nhash=nhash)
    for index in (flat, multi):
        index.add(stored, ids)
    assert len(multi) == len(flat) == 20_000
    expected = flat.search_many(queries, 31)
    assert multi.search_many(queries, 31) == expected
    found = [hits for hits in expected if hits]
    assert len(found) == sum(1 for i in range(200) if i % 41 <= 31)  # the planted ones, no random collisions
    assert all(h.distance <= 31 for hits in found for h in hits)


def test_radius_is_inclusive_and_ids_are_ours() -> None:
    base = "0" * 64
    at_31 = "0" * 56 + "7fffffff"
    at_32 = "0" * 56 + "ffffffff"
    for index in (FlatPdqIndex(), MultiHashPdqIndex()):
        index.add([base, at_31, at_32], [11, 22, 33])
        assert index.search(base) == [IndexHit(11, 0), IndexHit(22, 31)]
        assert [h.id for h in index.search(base, radius=32)] == [11, 22, 33]


def test_empty_index_and_empty_query() -> None:
    index = MultiHashPdqIndex()
    assert index.search("0" * 64) == []
    assert index.search_many([]) == []


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="nhash"):
        MultiHashPdqIndex(nhash=3)
    with pytest.raises(ValueError, match="ids"):
        FlatPdqIndex().add(["0" * 64], [1, 2])


@pytest.mark.parametrize("nhash", [16, 12])
def test_mapped_index_answers_as_the_flat_scan(
    data: tuple[np.ndarray, np.ndarray, np.ndarray], nhash: int, tmp_path: Path
) -> None:
    stored, ids, queries = data
    flat, built = FlatPdqIndex(), SortedMultiHashPdqIndex(nhash)
    flat.add(stored, ids)
    built.add(stored, ids)
    built.save(tmp_path / "saved")
    mapped = MappedSortedPdqIndex(tmp_path / "saved")
    assert len(mapped) == 20_000 and not mapped.codes().flags.writeable  # mapped, read-only
    for radius in (0, 31, 40):  # 40 with 12 chunks: three flipped bits a chunk, so the scan over the files
        assert mapped.search_many(queries, radius) == flat.search_many(queries, radius)
    with pytest.raises(TypeError):
        mapped.add(stored[:1], ids[:1])


def test_damaged_saved_index_is_refused(
    data: tuple[np.ndarray, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    stored, ids, _ = data
    built = SortedMultiHashPdqIndex()
    built.add(stored, ids)
    built.save(tmp_path / "saved")
    np.save(tmp_path / "saved" / "ids.npy", ids[:-1])  # one id short
    with pytest.raises(BankFormatError, match="do not fit"):
        MappedSortedPdqIndex(tmp_path / "saved")
    (tmp_path / "saved" / "codes.npy").write_bytes(b"not numpy")
    with pytest.raises(BankFormatError, match="not a saved PDQ index"):
        MappedSortedPdqIndex(tmp_path / "saved")
    with pytest.raises(BankFormatError):
        MappedSortedPdqIndex(tmp_path / "missing")
