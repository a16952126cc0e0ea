"""Banks: model validation, CSV/JSON import-export, the on-disk store and its atomic writes."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from civicshield.banks import (
    Bank,
    BankEntry,
    BankKind,
    BankStore,
    SignalType,
    bank_from_json,
    bank_to_json,
    entries_from_csv,
    entries_from_json,
    entries_to_csv,
    entries_to_json,
    register_official,
)
from civicshield.errors import BankError, BankFormatError, BankNotFound
from civicshield.hashing.audio import fingerprint_audio
from civicshield.media import Media

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
SHA = "b5b0799616df52d475a3968dc7e54f1d0724c912244ffa6175bc786375dd7298"
VPDQ = "0,100," + "0" * 64 + ",0.000\n30,87," + "f" * 64 + ",1.000"


@pytest.fixture(scope="module")
def chromaprint(testdata: Path) -> str:
    return fingerprint_audio(Media.open(testdata / "c2pa/c2pa-rs/fixtures/sample1.wav")).encoded


@pytest.fixture
def entries(chromaprint: str) -> list[BankEntry]:
    day = date(2025, 3, 1)
    return [
        BankEntry.create(
            "pdq",
            PDQ.upper(),
            "Fake bridge, photo",
            link="https://fc.example/1",
            added=day,
            quality=100,
            original_name='bridge, "final".jpg',
            original_sha256=SHA,
        ),
        BankEntry.create("sha256", SHA, "Fake bridge, photo", added=day),
        BankEntry.create("vpdq", VPDQ, "Fake speech video", link="https://fc.example/2", added=day),
        BankEntry.create("chromaprint", chromaprint, "Fake speech audio", added=day),
    ]


def test_entries_are_normalised(entries: list[BankEntry]) -> None:
    assert entries[0].hash == PDQ
    assert entries[0].signal_type is SignalType.PDQ
    assert entries[2].video.frames[1].quality == 87


def test_csv_round_trip(entries: list[BankEntry]) -> None:
    text = entries_to_csv(entries)
    assert text.splitlines()[0] == "hash,signal_type,label,link,added,quality,original_name,original_sha256"
    assert len(text.splitlines()) == 1 + len(entries)  # vPDQ stays on one line
    assert entries_from_csv(text) == entries


def test_json_round_trip(entries: list[BankEntry]) -> None:
    assert entries_from_json(entries_to_json(entries)) == entries
    bank = Bank("fakes-2025", BankKind.KNOWN_FAKE, tuple(entries), "debunked")
    assert bank_from_json(bank_to_json(bank)) == bank
    assert entries_from_json(bank_to_json(bank)) == entries


def test_long_vpdq_fits_in_a_csv_cell() -> None:
    long = "\n".join(f"{i * 30},100,{i:064x},{i}.000" for i in range(3 * 3600))  # a 3-hour video
    entry = BankEntry.create("vpdq", long, "long speech")
    assert entries_from_csv(entries_to_csv([entry])) == [entry]


def test_vpdq_accepted_as_json_list() -> None:
    as_list = json.dumps(VPDQ.splitlines())
    assert BankEntry.create("vpdq", as_list, "x").hash == VPDQ


def test_csv_columns_in_any_order_and_blank_lines() -> None:
    text = f"signal_type,hash\n\npdq,{PDQ}\n,\n"
    (entry,) = entries_from_csv(text)
    assert entry.label == ""
    assert entry.hash == PDQ


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"line 1: empty file"),
        ("hash,label\n", r"line 1: header lacks column\(s\) signal_type"),
        ("hash,signal_type,lable\n", r"line 1: unknown column\(s\) lable"),
        (f"hash,signal_type\n{PDQ},pdq\n{PDQ[:-1]},pdq\n", r"line 3: not a PDQ hash"),
        (f"hash,signal_type\n{PDQ},pdq\n{PDQ},md5\n", r"line 3: unknown signal_type 'md5'"),
        (f"hash,signal_type\n{PDQ},pdq,extra\n", r"line 2: more fields than the header"),
        (f"hash,signal_type,label\n{PDQ},pdq\n", r"line 2: fewer fields"),
        (f"hash,signal_type,quality\n{PDQ},pdq,101\n", r"line 2: quality must be 0-100"),
        (f"hash,signal_type,added\n{PDQ},pdq,yesterday\n", r"line 2: added must be an ISO date"),
        (f"hash,signal_type,original_sha256\n{PDQ},pdq,abc\n", r"line 2: original_sha256 must be 64 hex"),
        ("hash,signal_type\n0,100,abc,0.0,vpdq\n", r"line 2: more fields"),
        ('hash,signal_type\n"0,100,abc,0.0",vpdq\n', r"line 2: vPDQ frame 1: not a PDQ hash"),
        (f'hash,signal_type,label\n{PDQ},pdq,x\n{PDQ},pdq,"unclosed\n', r"line 3: malformed CSV"),
    ],
    ids=[
        "empty",
        "missing-column",
        "unknown-column",
        "bad-pdq",
        "bad-type",
        "extra-field",
        "short-row",
        "quality",
        "date",
        "sha",
        "vpdq-commas",
        "vpdq-frame",
        "unclosed-quote",
    ],
)
def test_malformed_csv_names_the_line(text: str, message: str) -> None:
    with pytest.raises(BankFormatError, match=message):
        entries_from_csv(text, source="bank.csv")


def test_malformed_json_names_the_line() -> None:
    with pytest.raises(BankFormatError, match=r"bank.json: line 3: malformed JSON"):
        entries_from_json('[\n {"hash": "x",\n ]', source="bank.json")
    bad_entry = (
        f'[\n {{"hash": "{PDQ}", "signal_type": "pdq"}},\n\n {{"hash": "{PDQ}", "signal_type": "nope"}}\n]'
    )
    with pytest.raises(BankFormatError, match=r"bank.json: line 4: unknown signal_type"):
        entries_from_json(bad_entry, source="bank.json")
    doc = bank_to_json(Bank("b", BankKind.AUTHENTIC, (BankEntry.create("pdq", PDQ, "x"),))).replace(PDQ, "zz")
    with pytest.raises(BankFormatError, match=r"line 7: not a PDQ hash"):
        bank_from_json(doc)
    with pytest.raises(BankFormatError, match="must be an object"):
        entries_from_json("[1]")
    with pytest.raises(BankFormatError, match="not a CivicShield bank"):
        bank_from_json('{"entries": []}')


def test_bank_names_are_validated() -> None:
    for bad in ("", "Fakes", "../etc", "a" * 65, "-x"):
        with pytest.raises(BankFormatError, match="bad bank name"):
            Bank(bad, BankKind.KNOWN_FAKE)


def test_store_create_add_load(tmp_path: Path, entries: list[BankEntry]) -> None:
    store = BankStore(tmp_path / "banks")
    assert store.names() == []
    store.create("fakes", BankKind.KNOWN_FAKE, "debunked")
    assert store.add_entries("fakes", entries) == tuple(entries)
    assert store.add_entries("fakes", entries[:2]) == ()  # already there
    bank = store.load("fakes")
    assert bank.entries == tuple(entries)
    assert bank.description == "debunked"
    assert store.names() == ["fakes"]
    assert [b.name for b in store.load_all(BankKind.AUTHENTIC)] == []
    with pytest.raises(BankError, match="already exists"):
        store.create("fakes", BankKind.KNOWN_FAKE)
    with pytest.raises(BankError, match="is a known_fake bank"):
        store.ensure("fakes", BankKind.AUTHENTIC)
    with pytest.raises(BankNotFound):
        store.load("other")
    store.delete("fakes")
    assert store.names() == []


def test_import_files(tmp_path: Path, entries: list[BankEntry]) -> None:
    store = BankStore(tmp_path)
    store.create("fakes", BankKind.KNOWN_FAKE)
    (tmp_path / "in.csv").write_text(entries_to_csv(entries[:2]))
    (tmp_path / "in.json").write_text(entries_to_json(entries[2:]))
    assert len(store.import_file("fakes", tmp_path / "in.csv")) == 2
    assert len(store.import_file("fakes", tmp_path / "in.json")) == 2
    assert store.load("fakes").entries == tuple(entries)
    (tmp_path / "in.txt").write_text("x")
    with pytest.raises(BankFormatError, match=r"\.csv or \.json"):
        store.import_file("fakes", tmp_path / "in.txt")


def test_a_failed_write_keeps_the_old_bank(
    tmp_path: Path, entries: list[BankEntry], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = BankStore(tmp_path)
    store.create("fakes", BankKind.KNOWN_FAKE)
    store.add_entries("fakes", entries[:1])
    before = store.path("fakes").read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(BankError, match="cannot write bank file"):
        store.add_entries("fakes", entries[1:])
    monkeypatch.undo()
    assert store.path("fakes").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".fakes.lock", "fakes.json"]  # no temp file left
    assert store.load("fakes").entries == tuple(entries[:1])


def test_corrupt_bank_file_is_a_format_error(tmp_path: Path) -> None:
    (tmp_path / "fakes.json").write_text('{"format": "civicshield.bank/1",\n "name": "fakes",\n oops}')
    with pytest.raises(BankFormatError, match=r"fakes.json: line 3: malformed JSON"):
        BankStore(tmp_path).load("fakes")


def test_add_media_registers_all_hashes(tmp_path: Path, testdata: Path) -> None:
    store = BankStore(tmp_path)
    image = Media.open(testdata / "threatexchange/pdq/images/bridge-mods/aaa-orig.jpg")
    added = register_official(store, image, "Bridge press photo", "https://gov.example/1")
    assert [e.signal_type for e in added] == [SignalType.SHA256, SignalType.PDQ]
    assert {e.original_sha256 for e in added} == {image.sha256}
    assert added[1].quality == 100
    assert store.load("official").kind is BankKind.AUTHENTIC
    assert register_official(store, image, "again") == ()  # idempotent
    clip = Media.open(testdata / "threatexchange/vpdq/videos/test-padded-dimensions.mp4")
    store.create("fakes", BankKind.KNOWN_FAKE)
    kinds = [e.signal_type for e in store.add_media("fakes", clip, "fake clip")]
    assert kinds == [SignalType.SHA256, SignalType.VPDQ]


def test_a_vpdq_entry_reads_every_form_and_shares_one() -> None:
    from civicshield.banks import BankEntry

    frames = ["e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c"] * 2
    reference = f"0,100,{frames[0]},0.000\n30,98,{frames[1]},1.000"  # as vPDQ's reference files store it
    shared = f'["{frames[0]},100,0.000","{frames[1]},98,1.000"]'  # python-threatexchange's vpdq signal
    old_csv_cell = reference.replace("\n", ";")
    bank_json = '["0,100,' + frames[0] + ',0.000", "30,98,' + frames[1] + ',1.000"]'
    entries = [BankEntry.create("vpdq", form, "x") for form in (reference, old_csv_cell, bank_json)]
    assert {e.hash for e in entries} == {reference}
    assert {e.shared_hash for e in entries} == {shared}
    from_shared = BankEntry.create("vpdq", shared, "x")
    assert from_shared.shared_hash == shared
    assert [(f.quality, f.timestamp_s) for f in from_shared.video.frames] == [(100, 0.0), (98, 1.0)]


def test_an_allowlist_match_sets_known_fakes_aside_but_not_official_media() -> None:
    from civicshield.banks import BankEntry, BankMatch
    from civicshield.banks.verdict import BankVerdict

    entry = BankEntry.create("sha256", "ab" * 32, "x")
    fake = BankMatch("fakes", BankKind.KNOWN_FAKE, entry, exact=True)
    allowed = BankMatch("allow", BankKind.ALLOWLIST, entry, exact=True)
    official = BankMatch("official", BankKind.AUTHENTIC, entry, exact=True)
    assert BankVerdict.of([fake]) is BankVerdict.KNOWN_FAKE
    assert BankVerdict.of([fake, allowed]) is BankVerdict.ALLOWLISTED
    assert BankVerdict.of([allowed]) is BankVerdict.ALLOWLISTED
    assert BankVerdict.of([fake, allowed, official]) is BankVerdict.AUTHENTIC_OFFICIAL
