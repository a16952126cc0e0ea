"""The live index over real databases: incremental reads, metadata from the rows, TLP, chunked loading."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text, update

from civicshield.banks import BankEntry
from civicshield.hashing.cache import MediaHashes, media_hashes
from civicshield.hashing.index import FlatPdqIndex, MappedSortedPdqIndex, SortedMultiHashPdqIndex
from civicshield.hashing.pdq import PdqHash
from civicshield.media import Media, MediaKind
from civicshield.service.domain import banks, store
from civicshield.service.domain.matches import EntryMeta, LiveMatch
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.tables import BankRow, User
from civicshield.service.infra import live_index
from civicshield.service.infra.bank_index import LiveIndex
from civicshield.service.infra.db.engine import Database
from civicshield.service.infra.live_index import PdqSnapshots

from .conftest import World

RNG = np.random.default_rng(7)


def random_hex() -> str:
    return RNG.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def near(hex_: str, bits: int) -> str:
    value = int(hex_, 16)
    for b in range(bits):
        value ^= 1 << (b * 7 + 3)
    return f"{value:064x}"


def pdq_query(hex_: str) -> MediaHashes:
    return MediaHashes("", MediaKind.IMAGE, pdq=PdqHash(hex_, 100))


def pdq_entry(hex_: str, label: str = "fake", **kw: object) -> BankEntry:
    return BankEntry.create("pdq", hex_, label, **kw)  # type: ignore[arg-type]


def principal(db: Database, world: World, who: str) -> Principal:
    with db.session() as s:
        user = s.get(User, world.ids[f"{who}:user"])
        assert user is not None
        return store.principal_for(user)


def make_bank(db: Database, who: Principal, name: str, tlp: str = "GREEN", kind: str = "known_fake") -> int:
    with db.session() as s:
        return banks.create_bank(s, who, name, kind, tlp).id


def add(db: Database, who: Principal, bank_id: int, entries: list[BankEntry], **kw: object) -> list[int]:
    with db.session() as s:
        bank = s.get(BankRow, bank_id)
        assert bank is not None
        return [r.id for r in banks.add_entries(s, who, bank, entries, **kw)]  # type: ignore[arg-type]


@pytest.fixture
def db(world: World) -> Database:
    database: Database = world.client.app.state.rt.db  # type: ignore[attr-defined]
    return database


@pytest.fixture
def main_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of every main PDQ index built (re-sorted) from now on."""
    sizes: list[int] = []
    real: Callable[[np.ndarray, np.ndarray], FlatPdqIndex] = live_index._main_index

    def spy(codes: np.ndarray, ids: np.ndarray) -> FlatPdqIndex:
        sizes.append(len(ids))
        return real(codes, ids)

    monkeypatch.setattr(live_index, "_main_index", spy)
    return sizes


def labels(found: list[LiveMatch]) -> list[str]:
    return [m.match.entry.label for m in found]


def sorted_bank(
    world: World, db: Database, monkeypatch: pytest.MonkeyPatch, name: str, n: int
) -> tuple[Principal, int, list[str]]:
    """A bank of ``n`` random codes of which the first 45 are stored, with the sorted index from 40 codes
    on and a delta of at most 10: a reviewer, the bank's id and every code."""
    monkeypatch.setattr(live_index, "SORTED_MIN", 40)
    monkeypatch.setattr(live_index, "DELTA_MAX", 10)
    reviewer = principal(db, world, "factcheck:reviewer")
    bank_id = make_bank(db, reviewer, name)
    hexes = [random_hex() for _ in range(n)]
    add(db, reviewer, bank_id, [pdq_entry(h, f"e{i}") for i, h in enumerate(hexes[:45])])
    return reviewer, bank_id, hexes


def test_new_rows_are_read_incrementally_without_resorting(
    world: World, db: Database, main_builds: list[int]
) -> None:
    reviewer = principal(db, world, "factcheck:reviewer")
    bank_id = make_bank(db, reviewer, "imported")
    first = [random_hex() for _ in range(30)]
    add(db, reviewer, bank_id, [pdq_entry(h, f"old-{i}") for i, h in enumerate(first)])
    live = LiveIndex(db, max_lag_s=3600)
    live.rebuild()
    assert main_builds == [30] and len(live) == 30

    later = random_hex()
    add(db, reviewer, bank_id, [pdq_entry(later, "new")])  # this process wrote: the next match sees it
    found = live.match(reviewer.org_id, pdq_query(near(later, 9)))
    assert labels(found) == ["new"] and found[0].match.distance == 9
    assert main_builds == [30]  # the new row went into the delta: nothing re-sorted, nothing re-read
    assert labels(live.match(reviewer.org_id, pdq_query(first[4]))) == ["old-4"]
    assert len(live) == 31


def test_main_index_grows_into_the_sorted_index_and_absorbs_the_delta(
    world: World, db: Database, main_builds: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    reviewer, bank_id, hexes = sorted_bank(world, db, monkeypatch, "big", 60)
    live = LiveIndex(db)
    live.rebuild()
    assert isinstance(live._banks[bank_id].pdq.main, SortedMultiHashPdqIndex)
    add(db, reviewer, bank_id, [pdq_entry(h, f"e{i}") for i, h in enumerate(hexes[45:50], 45)])
    live.match(reviewer.org_id, pdq_query(hexes[0]))
    assert main_builds == [45]  # 5 in the delta
    add(db, reviewer, bank_id, [pdq_entry(h, f"e{i}") for i, h in enumerate(hexes[50:], 50)])
    live.match(reviewer.org_id, pdq_query(hexes[0]))
    assert main_builds == [45, 60]  # the delta passed DELTA_MAX: one re-sort from memory
    for i in (0, 44, 47, 59):
        assert labels(live.match(reviewer.org_id, pdq_query(near(hexes[i], 12)))) == [f"e{i}"]


def test_hits_carry_the_rows_metadata(world: World, db: Database) -> None:
    reviewer = principal(db, world, "factcheck:reviewer")
    bank_id = make_bank(db, reviewer, "meta")
    h = random_hex()
    entry = pdq_entry(
        h, "Burned ballots", link="https://example.org/fc/1", original_name="a.jpg", original_sha256="cd" * 32
    )
    (row_id,) = add(db, reviewer, bank_id, [entry], tlp="CLEAR")
    live = LiveIndex(db)
    live.rebuild()
    (m,) = live.match(world.ids["other"], pdq_query(near(h, 3)))
    owner = world.ids["factcheck"]
    assert m.meta == EntryMeta(row_id, bank_id, owner, "GREEN", None)  # the bank's GREEN is stricter
    assert m.match.bank == "meta" and m.match.bank_kind == "known_fake"
    assert m.match.entry == banks.to_entry(_row(db, row_id))
    assert m.match.detail()["link"] == "https://example.org/fc/1" and m.match.distance == 3
    assert m.match.entry.original_sha256 == "cd" * 32 and not m.match.oriented


def _row(db: Database, row_id: int) -> banks.BankEntryRow:
    with db.session() as s:
        row = s.get(banks.BankEntryRow, row_id)
        assert row is not None
        s.expunge(row)
        return row


def test_tlp_filtering(world: World, db: Database) -> None:
    reviewer = principal(db, world, "factcheck:reviewer")
    own, other = world.ids["factcheck"], world.ids["other"]
    green, amber = make_bank(db, reviewer, "green", "GREEN"), make_bank(db, reviewer, "amber", "AMBER")
    h = random_hex()
    add(db, reviewer, green, [pdq_entry(h, "shared")])
    add(db, reviewer, green, [pdq_entry(near(h, 2), "kept")], tlp="AMBER+STRICT")
    add(db, reviewer, amber, [pdq_entry(near(h, 4), "amber bank")], tlp="CLEAR")
    add(db, reviewer, amber, [BankEntry.create("sha256", "ab" * 32, "amber sha")])
    live = LiveIndex(db)
    live.rebuild()
    query = MediaHashes("ab" * 32, MediaKind.IMAGE, pdq=PdqHash(h, 100))
    assert labels(live.match(own, query)) == ["amber sha", "shared", "kept", "amber bank"]
    assert labels(live.match(other, query)) == ["shared"]
    assert [m.meta.tlp for m in live.match(own, query)] == ["AMBER", "GREEN", "AMBER+STRICT", "AMBER"]
    assert labels(live.match(own, query, kinds=("authentic",))) == []


def test_low_quality_hashes_are_neither_indexed_nor_looked_up(world: World, db: Database) -> None:
    reviewer = principal(db, world, "factcheck:reviewer")
    bank_id = make_bank(db, reviewer, "quality")
    weak, strong = random_hex(), random_hex()
    add(db, reviewer, bank_id, [pdq_entry(weak, "weak", quality=20), pdq_entry(strong, "strong", quality=90)])
    live = LiveIndex(db)
    live.rebuild()
    assert labels(live.match(reviewer.org_id, pdq_query(weak))) == []
    assert labels(live.match(reviewer.org_id, pdq_query(strong))) == ["strong"]
    blurry = MediaHashes("", MediaKind.IMAGE, pdq=PdqHash(strong, 10))
    assert live.match(reviewer.org_id, blurry) == []


def test_chunked_loading_reads_every_row(world: World, db: Database) -> None:
    reviewer = principal(db, world, "factcheck:reviewer")
    bank_id = make_bank(db, reviewer, "chunks")
    hexes = [random_hex() for _ in range(23)]
    ids = add(db, reviewer, bank_id, [pdq_entry(h, f"c{i}") for i, h in enumerate(hexes)])
    ids += add(db, reviewer, bank_id, [BankEntry.create("sha256", f"{i:064x}", f"s{i}") for i in range(9)])
    with db.session() as s:
        codes, got = live_index.pdq_rows(s, bank_id, after_id=0, min_quality=50, chunk_rows=5)
        assert got.tolist() == ids[:23] and codes.tobytes().hex() == "".join(hexes)
        assert live_index.pdq_rows(s, bank_id, after_id=ids[20], min_quality=50)[1].tolist() == ids[21:23]
        assert [r.id for r in live_index.other_rows(s, bank_id, 0, chunk_rows=4)] == ids[23:]
    live = LiveIndex(db, chunk_rows=4)
    live.rebuild()
    assert live.stats().pdq_codes == 23 and live.stats().other_entries == 9
    assert labels(live.match(reviewer.org_id, pdq_query(hexes[22]))) == ["c22"]
    sha = MediaHashes(f"{8:064x}", MediaKind.IMAGE)
    assert labels(live.match(reviewer.org_id, sha)) == ["s8"]


def test_other_processes_writes_show_after_the_lag(world: World, db: Database) -> None:
    reviewer = principal(db, world, "factcheck:reviewer")
    bank_id = make_bank(db, reviewer, "lagging")
    live = LiveIndex(db, max_lag_s=3600)
    live.rebuild()
    h = random_hex()
    other_process = Database(str(db.engine.url.render_as_string(hide_password=False)))
    with other_process.session() as s:  # what another API process or worker would write
        s.execute(
            text(
                "INSERT INTO bank_entries"
                " (bank_id, signal_type, value, value_key, label, link, tlp, created_at)"
                " VALUES (:b, 'pdq', :v, :k, 'elsewhere', '', 'GREEN', CURRENT_TIMESTAMP)"
            ),
            {"b": bank_id, "v": h, "k": banks.value_key("pdq", h)},
        )
        s.execute(update(BankRow).where(BankRow.id == bank_id).values(revision=BankRow.revision + 1))
    other_process.dispose()
    assert live.match(reviewer.org_id, pdq_query(h)) == []  # within max_lag_s
    live.sync()
    assert labels(live.match(reviewer.org_id, pdq_query(h))) == ["elsewhere"]


def test_sorted_multi_hash_index_equals_the_flat_scan() -> None:
    codes = RNG.integers(0, 256, size=(5000, 32), dtype=np.uint8)
    ids = np.arange(5000, dtype=np.int64) * 3 + 7
    picks = RNG.integers(0, 5000, size=200)
    bits = np.unpackbits(codes[picks], axis=1)
    for row, flips in zip(bits, RNG.integers(0, 40, size=200), strict=True):
        row[RNG.choice(256, size=flips, replace=False)] ^= 1
    queries = np.concatenate([np.packbits(bits, axis=1), RNG.integers(0, 256, size=(20, 32), dtype=np.uint8)])
    flat = FlatPdqIndex()
    flat.add(codes, ids)
    index = SortedMultiHashPdqIndex()
    index.add(codes[:3000], ids[:3000])
    index.add(codes[3000:], ids[3000:])  # re-sorts
    assert index.codes().tobytes() == codes.tobytes() and index.ids.tolist() == ids.tolist()
    for radius in (31, 24, 8, 0):  # one flipped bit per 16-bit chunk, or none
        assert index.search_many(queries, radius) == flat.search_many(queries, radius)
    twelve = SortedMultiHashPdqIndex(12)  # chunks of 21-22 bits
    twelve.add(codes, ids)
    for radius in (31, 20, 8):  # 31: more probes than codes, so the flat scan answers
        assert twelve.search_many(queries, radius) == flat.search_many(queries, radius)
    with pytest.raises(ValueError, match="nhash"):
        SortedMultiHashPdqIndex(10)


def test_a_flat_main_index_is_sorted_once_the_bank_outgrows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_index, "SORTED_MIN", 40)
    monkeypatch.setattr(live_index, "DELTA_MAX", 1000)
    codes = RNG.integers(0, 256, size=(50, 32), dtype=np.uint8)
    ids = np.arange(1, 51, dtype=np.int64)
    pdq = live_index.PdqCodes.build(codes[:30], ids[:30])
    pdq = pdq.extended(codes[30:35], ids[30:35])
    assert type(pdq.main) is FlatPdqIndex and len(pdq.delta) == 5 and pdq.last_id == 35
    pdq = pdq.extended(codes[35:], ids[35:])
    assert isinstance(pdq.main, SortedMultiHashPdqIndex) and len(pdq.delta) == 0 and pdq.last_id == 50
    assert [hits[0].id for hits in pdq.search(codes, 31)] == ids.tolist()


def test_a_mirrored_copy_matches_in_the_live_index_and_says_so(
    world: World, db: Database, testdata: Path
) -> None:
    # The published C++ hash of ThreatExchange's bridge photo; the query is its own left-right mirror file.
    reviewer = principal(db, world, "factcheck:reviewer")
    bank_id = make_bank(db, reviewer, "turns")
    original = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
    add(db, reviewer, bank_id, [pdq_entry(original)])
    live = LiveIndex(db)
    live.rebuild()
    dih = testdata / "threatexchange" / "pdq" / "images" / "reg-test-input" / "dih"
    (m,) = live.match(reviewer.org_id, media_hashes(Media.open(dih / "bridge-6-flipy.jpg")))
    assert m.match.turn == "mirrored left to right"
    assert m.match.distance is not None and m.match.distance <= 31


def test_processes_share_one_saved_index_and_one_sorts_at_a_time(
    world: World, db: Database, main_builds: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reviewer, bank_id, hexes = sorted_bank(world, db, monkeypatch, "shared", 65)
    snapshots = PdqSnapshots(tmp_path / "pdq-index")
    first, second = (LiveIndex(db, snapshots=snapshots, max_lag_s=3600) for _ in range(2))
    first.rebuild()
    second.rebuild()  # another process starting: it maps what the first one saved, sorting nothing
    assert main_builds == [45]
    saved = sorted(p.name for p in (tmp_path / "pdq-index").iterdir() if p.is_dir())
    assert saved == [f"bank{bank_id}-q{first.policy.pdq_min_quality}-{first._banks[bank_id].pdq.last_id}"]
    for live in (first, second):
        assert isinstance(live._banks[bank_id].pdq.main, MappedSortedPdqIndex)
        assert labels(live.match(reviewer.org_id, pdq_query(near(hexes[7], 10)))) == ["e7"]

    add(
        db, reviewer, bank_id, [pdq_entry(h, f"e{i}") for i, h in enumerate(hexes[45:], 45)]
    )  # 20 > DELTA_MAX
    with snapshots.sorting(bank_id, wait=False) as mine:  # as if a third process were sorting the bank
        assert mine
        second.sync()
        assert main_builds == [45]  # not its turn: the new rows wait in its delta, and are found there
        assert labels(second.match(reviewer.org_id, pdq_query(hexes[60]))) == ["e60"]
    first.sync()
    assert main_builds == [45, 65]  # the first process's turn: it sorts and saves
    second.sync()  # the second maps the new files instead of sorting again
    assert main_builds == [45, 65]
    pdq = second._banks[bank_id].pdq
    assert isinstance(pdq.main, MappedSortedPdqIndex) and len(pdq.main) == 65 and len(pdq.delta) == 0
    assert len([p for p in (tmp_path / "pdq-index").iterdir() if p.is_dir()]) == 1  # the older one is gone
    for i in (3, 50, 64):
        assert labels(second.match(reviewer.org_id, pdq_query(near(hexes[i], 11)))) == [f"e{i}"]


def test_a_saved_index_the_database_does_not_hold_is_not_used(
    world: World, db: Database, main_builds: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(live_index, "SORTED_MIN", 40)
    reviewer = principal(db, world, "factcheck:reviewer")
    bank_id = make_bank(db, reviewer, "reused-folder")
    hexes = [random_hex() for _ in range(45)]
    ids = add(db, reviewer, bank_id, [pdq_entry(h, f"e{i}") for i, h in enumerate(hexes)])
    snapshots = PdqSnapshots(tmp_path / "pdq-index")
    LiveIndex(db, snapshots=snapshots).rebuild()
    replaced = random_hex()  # the data folder outlived its database: the same row ids hold other codes
    with db.session() as s:
        s.execute(text("UPDATE bank_entries SET value = :v WHERE id = :i"), {"v": replaced, "i": ids[0]})
    live = LiveIndex(db, snapshots=snapshots)
    live.rebuild()
    assert main_builds == [45, 45]  # read again from the database, not from the files
    assert labels(live.match(reviewer.org_id, pdq_query(replaced))) == ["e0"]
    assert live.match(reviewer.org_id, pdq_query(hexes[0])) == []
    again = LiveIndex(db, snapshots=snapshots)
    again.rebuild()  # and the files now hold what the database holds
    assert main_builds == [45, 45] and labels(again.match(reviewer.org_id, pdq_query(replaced))) == ["e0"]


def test_match_many_answers_each_item_as_match_does(world: World, db: Database, tmp_path: Path) -> None:
    """Items with several PDQ queries each (a picture's turns) searched together get what each gets alone."""
    from civicshield.demo import synth

    reviewer = principal(db, world, "factcheck:reviewer")
    bank_id = make_bank(db, reviewer, "batch")
    items = [
        media_hashes(
            Media.open(
                synth.save_image(synth.poster(f"B{i}", size=(300, 200), seed=i), tmp_path / f"{i}.png", "PNG")
            )
        )
        for i in range(3)
    ]
    turned = items[1].pdq_queries(0)[-1].hash.hex  # the second picture as banked is one of its turns
    add(db, reviewer, bank_id, [pdq_entry(items[0].pdq.hex, "first"), pdq_entry(turned, "second, turned")])
    live = LiveIndex(db)
    live.rebuild()
    one_by_one = [live.match(reviewer.org_id, h) for h in items]
    assert [labels(f) for f in one_by_one] == [["first"], ["second, turned"], []]
    together = live.match_many(reviewer.org_id, [items[2], *items, items[0]])
    assert together == [one_by_one[2], *one_by_one, one_by_one[0]]
