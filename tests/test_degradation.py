"""An analyzer that cannot load never stops an analysis: it is named, with its reason, wherever a verdict is
shown; a deployment that requires it refuses to start instead (issue 9, part 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from civicshield.cli import app
from civicshield.errors import AnalyzerUnavailable
from civicshield.pipeline import Engine
from civicshield.report import ReportItem, render_html
from civicshield.settings import Settings

BROKEN = "broken_model=tests.analyzers.plugin_broken_model:BrokenModel"
CORE = ("c2pa", "metadata", "phash", "broken_model")


def _poster(tmp_path: Path) -> Path:
    from civicshield.demo import synth

    return synth.save_image(synth.poster("DEGRADED", size=(320, 240), seed=4), tmp_path / "poster.jpg")


def test_a_broken_analyzer_is_named_in_the_verdict_and_the_rest_still_answer(tmp_path: Path) -> None:
    engine = Engine.from_settings(Settings(data_dir=tmp_path, plugins=(BROKEN,), analyzers=CORE))
    verdict = engine.analyze(engine.open(_poster(tmp_path)))
    assert {s.analyzer for s in verdict.signals} == {"c2pa", "metadata", "phash"}
    data = verdict.to_dict()
    assert data["unavailable"] == [
        {"analyzer": "broken_model", "reason": "broken_model: the model file fails its sha256 check"}
    ]
    html = render_html([ReportItem(source="poster.jpg", verdict=verdict)])
    assert "Not checked" in html and "fails its sha256 check" in html


def test_the_verdict_schema_describes_unavailable_analyzers(tmp_path: Path) -> None:
    import jsonschema

    from civicshield.verdict import Verdict

    schema = json.loads(
        (Path(__file__).parents[1] / "src/civicshield/data/schema/verdict-1.json").read_text()
    )
    engine = Engine.from_settings(Settings(data_dir=tmp_path, plugins=(BROKEN,), analyzers=CORE))
    verdict: Verdict = engine.analyze(engine.open(_poster(tmp_path)))
    jsonschema.validate(verdict.to_dict(), schema)


def test_a_required_analyzer_that_cannot_load_stops_the_start(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, plugins=(BROKEN,), analyzers=CORE, required_analyzers=("broken_model",)
    )
    with pytest.raises(AnalyzerUnavailable, match="required analyzers are unavailable"):
        Engine.from_settings(settings)


def test_cli_analyze_answers_and_says_what_was_not_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIVICSHIELD_PLUGINS", BROKEN)
    monkeypatch.setenv("CIVICSHIELD_ANALYZERS", ",".join(CORE))
    poster = _poster(tmp_path)
    result = CliRunner().invoke(app, ["analyze", str(poster), "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["items"][0]["unavailable"][0]["analyzer"] == "broken_model"
    listed = CliRunner().invoke(app, ["analyzers", "--json"])
    assert listed.exit_code == 0, listed.output
    status = json.loads(listed.stdout)
    assert "phash" in status["ready"] and status["unavailable"][0]["analyzer"] == "broken_model"
    monkeypatch.setenv("CIVICSHIELD_REQUIRED_ANALYZERS", "broken_model")
    strict = CliRunner().invoke(app, ["analyze", str(poster), "--data-dir", str(tmp_path)])
    assert strict.exit_code == 2 and "required analyzers are unavailable" in strict.output


def test_an_unknown_analyzer_name_is_still_an_error(tmp_path: Path) -> None:
    from civicshield.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="no analyzer named"):
        Engine.from_settings(Settings(data_dir=tmp_path, analyzers=("c2pa", "clip_detectr")))
