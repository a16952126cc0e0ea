"""python-threatexchange signal files: what goes out, what comes in, what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from civicshield.banks import BankEntry, BankKind, BankStore
from civicshield.banks.threatexchange import entries_from_te, entries_to_te
from civicshield.cli import app
from civicshield.errors import BankFormatError
from civicshield.settings import Settings

PDQ = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
SHA = "ab" * 32


def test_image_sha256_and_chromaprint_are_left_out_and_counted() -> None:
    entries = [
        BankEntry.create("pdq", PDQ, "fake", original_sha256=SHA),
        BankEntry.create("sha256", SHA, "fake", original_sha256=SHA),
        BankEntry.create("chromaprint", "AQAAAA", "fake"),
    ]
    out = entries_to_te(entries)
    assert out.text == f"pdq {PDQ}\n"
    assert out.written == 1
    assert sum(out.left_out.values()) == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("pdq nothex", "not a PDQ hash"),
        ("pdq", "want '<signal type> <signal>'"),
        ("video_sha256 123", "sha256"),
        ('vpdq ["x"]', "not 'hash,quality,timestamp'"),
        ("vpdq {not json", "not a JSON list"),
        (f'vpdq ["{PDQ},101,0.0"]', "out-of-range"),
    ],
)
def test_a_malformed_signal_names_its_line_and_imports_nothing(line: str, message: str) -> None:
    text = f"pdq {PDQ}\n{line}\n"
    with pytest.raises(BankFormatError, match=message) as caught:
        entries_from_te(text, source="partner.txt", label="x")
    assert caught.value.message.startswith("partner.txt:2:")


def test_unknown_types_and_comments_are_skipped_and_counted() -> None:
    text = f"# exported by a partner\nraw_text hello world\npdq {PDQ}\nurl https://example.org\n"
    entries, skipped = entries_from_te(text, source="p.txt", label="partner bank")
    assert [(e.signal_type.value, e.hash, e.label) for e in entries] == [("pdq", PDQ, "partner bank")]
    assert skipped == {"raw_text": 1, "url": 1}


def test_cli_export_and_import_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = BankStore.from_settings(Settings(data_dir=data))
    store.create("mine", BankKind.KNOWN_FAKE)
    store.add_entries("mine", [BankEntry.create("pdq", PDQ, "Fake poster")])
    out = tmp_path / "mine.te.txt"
    env = {"CIVICSHIELD_DATA_DIR": str(data)}
    result = CliRunner().invoke(
        app, ["bank", "export", "mine", "--format", "threatexchange", "-o", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    assert out.read_text() == f"pdq {PDQ}\n"
    args = ["bank", "import", "theirs", str(out), "--threatexchange-label", "From partner X"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    (entry,) = store.load("theirs").entries
    assert (entry.hash, entry.label) == (PDQ, "From partner X")
