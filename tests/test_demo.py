"""`civicshield demo` (what `make run` shows first): every generated item gets its intended verdict."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from civicshield.cli import app


def test_demo_items_get_their_expected_verdicts(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    report = (tmp_path / "demo" / "report.html").read_text()
    labels = ("Known fake", "Altered copy of official media", "Tampered after signing")
    labels += ("Authentic provenance", "Suspected impersonation")
    for label in labels:
        assert label in report
