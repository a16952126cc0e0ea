"""``eval-matching`` on ThreatExchange's own pictures: copies found, different pictures kept apart."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from civicshield.cli.evaluate import register
from civicshield.evaluation.matching import COPIES, measure_matching


def _pictures(testdata: Path) -> list[Path]:
    base = testdata / "threatexchange" / "pdq" / "images" / "reg-test-input"
    return [base / "dih" / "bridge-1-original.jpg", base / "pen-and-coaster.png"]


def test_copies_are_measured_against_their_original_and_pairs_against_each_other(testdata: Path) -> None:
    report = measure_matching(_pictures(testdata))
    assert report.images == 2 and report.skipped == 0
    assert {r.copy for r in report.copies} == set(COPIES)
    by_copy = {r.copy: r for r in report.copies}
    # a mirror or a quarter turn is one of PDQ's eight orientations: found at (almost) no distance
    assert by_copy["mirrored"].within(31) == 2
    assert by_copy["turned 90°"].within(31) == 2
    assert by_copy["JPEG q50"].within(31) == 2
    # PDQHasherTest.java: Hamming(bridge-1, pen-and-coaster) = 138; no orientation brings them near
    assert report.pairs == 1
    assert report.false_matches(48) == 0


def test_eval_matching_prints_the_recall_table(tmp_path: Path, testdata: Path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    for path in _pictures(testdata):
        (folder / path.name).symlink_to(path)
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["eval-matching", str(folder)])
    assert result.exit_code == 0, result.output
    assert "| mirrored" in result.output and "phone screenshot" in result.output
    assert "Different images within 31 (match): 0 of 1 pairs" in result.output
