from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from civicshield.cli import app
from civicshield.demo import synth

runner = CliRunner()
SCHEMA = json.loads(resources.files("civicshield").joinpath("data/schema/verdict-1.json").read_text())


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    synth.save_image(synth.poster(size=(300, 300)), tmp_path / "in" / "a.png", "PNG")
    synth.save_image(synth.poster(size=(300, 300), seed=2), tmp_path / "in" / "sub" / "b.jpg", "JPEG")
    (tmp_path / "in" / "notes.txt").write_text("not media")
    return tmp_path / "in"


def _env(tmp_path: Path) -> dict[str, str]:
    return {"CIVICSHIELD_DATA_DIR": str(tmp_path / "data")}


def test_analyze_folder_json_validates_and_reports_bad_items(folder: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(folder), "--json"], env=_env(tmp_path))
    assert result.exit_code == 3, result.output  # notes.txt is not media
    payload = json.loads(result.stdout)
    assert payload["schema_version"] == 1
    assert [Path(i["media"]["name"]).name for i in payload["items"]] == ["a.png", "b.jpg"]
    for item in payload["items"]:
        jsonschema.validate(item, SCHEMA)
    assert payload["errors"][0]["error"]["code"] == "unsupported_media"


def test_analyze_stdin(tmp_path: Path) -> None:
    data = synth.png_bytes(synth.poster(size=(256, 256)))
    result = runner.invoke(app, ["analyze", "-", "--json"], input=data, env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"][0]["media"]["name"] == "stdin"


def test_analyze_table_and_html_report(folder: Path, tmp_path: Path) -> None:
    report = tmp_path / "out" / "report.html"
    result = runner.invoke(
        app, ["analyze", str(folder / "a.png"), "--report", str(report)], env=_env(tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert "verdict" in result.stdout.lower()
    html = report.read_text()
    assert html.startswith("<!doctype html>")
    assert "data:image/png;base64," in html  # thumbnail inlined: the file is self-contained
    assert "a.png" in html


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(tmp_path / "nope.jpg")], env=_env(tmp_path))
    assert result.exit_code == 2
    assert "usage_error" in result.output


def test_unknown_trust_profile_is_a_usage_error(folder: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(folder), "--trust", "everyone"], env=_env(tmp_path))
    assert result.exit_code == 2


def test_unknown_analyzer_is_a_configuration_error(folder: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(folder), "-a", "nope"], env=_env(tmp_path))
    assert result.exit_code == 2
    assert "configuration_error" in result.output and "no analyzer named nope" in result.output


def test_fail_on_label(folder: Path, tmp_path: Path) -> None:
    only = ["-a", "c2pa", "-a", "metadata"]  # a drawn PNG without credentials or metadata: inconclusive
    args = ["analyze", str(folder / "a.png"), *only, "--fail-on", "inconclusive"]
    assert runner.invoke(app, args, env=_env(tmp_path)).exit_code == 4


def test_analyzers_command_lists_builtins() -> None:
    result = runner.invoke(app, ["analyzers"])
    assert result.exit_code == 0
    for name in ("c2pa", "metadata", "watermark", "phash", "known_fakes", "official_media"):
        assert name in result.stdout


def test_schema_command_prints_the_shipped_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert json.loads(result.stdout)["$id"] == SCHEMA["$id"]


def test_an_invalid_credential_is_in_the_short_table(testdata: Path, tmp_path: Path) -> None:
    # reference_results.md: CAICAI.jpg is Invalid (signingCredential.invalid, signingCredential.untrusted)
    path = testdata / "c2pa-real" / "contentauth-c2pa-js-legacy" / "CAICAI.jpg"
    args = ["analyze", str(path), "-a", "c2pa", "-a", "metadata", "-a", "clip_detector"]
    result = runner.invoke(app, args, env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    flat = "".join(result.output.replace("│", " ").split())  # the table wraps long words across lines
    assert "signingCredential.invalid" in flat


def test_a_standalone_worker_needs_the_public_address(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "CIVICSHIELD_BASE_URL": ""}
    result = runner.invoke(app, ["worker"], env=env)
    assert result.exit_code != 0
    assert "CIVICSHIELD_BASE_URL" in result.output
