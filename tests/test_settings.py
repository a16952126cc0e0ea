"""Typed settings: per-analyzer options from a TOML file and the environment, refused loudly when wrong, and
every setting documented in the README (datasette's ``test_settings_are_documented``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civicshield.analyzers.forensics.ela import ElaAnalyzer
from civicshield.analyzers.ml.video import VideoDetector, VideoPolicy
from civicshield.analyzers.registry import AnalyzerRegistry
from civicshield.analyzers.watermark import WatermarkAnalyzer, WatermarkPolicy
from civicshield.errors import ConfigurationError
from civicshield.pipeline import Engine
from civicshield.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SETTINGS_SOURCES = (ROOT / "src/civicshield/settings.py", ROOT / "src/civicshield/service/settings.py")


def _options(**by_analyzer: dict[str, object]) -> Settings:
    return Settings(analyzer_options=by_analyzer)


def test_every_environment_variable_is_documented() -> None:
    names = {
        name
        for path in SETTINGS_SOURCES
        for name in re.findall(r'"(CIVICSHIELD_[A-Z_]+)"', path.read_text(encoding="utf-8"))
    }
    assert len(names) > 20  # the scan found the settings
    assert sorted(n for n in names if f"`{n}" not in README) == []


def test_every_analyzer_option_is_documented_and_nothing_else() -> None:
    registry = AnalyzerRegistry.discover()
    declared = {f"{name}.{option}" for name in registry.names() for option in registry.get(name).options}
    table = README.split("### Analyzer settings", 1)[1].split("\n#", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", table, flags=re.M))
    assert declared and declared == documented
    for name in registry.names():
        assert all(len(o.help) > 20 and o.field for o in registry.get(name).options.values()), name


def test_environment_wins_over_the_settings_file(tmp_path: Path) -> None:
    file = tmp_path / "civicshield.toml"
    file.write_text("[analyzers.video_detector]\nfps = 2.0\nmax_frames = 60\n", encoding="utf-8")
    env = {"CIVICSHIELD_SETTINGS_FILE": str(file), "CIVICSHIELD_VIDEO_DETECTOR__FPS": "0.5"}
    settings = Settings.from_env(env)
    assert settings.analyzer_options == {"video_detector": {"fps": "0.5", "max_frames": 60}}
    policy = VideoDetector.configured(VideoPolicy(), settings)
    assert (policy.sampling.fps, policy.sampling.max_frames) == (0.5, 60)
    assert policy.sampling.scene_threshold == VideoPolicy().sampling.scene_threshold  # the rest untouched


def test_an_option_reaches_the_built_analyzer() -> None:
    watermark = WatermarkAnalyzer.from_settings(_options(watermark={"max_pixels": "1000000"}))
    assert watermark.policy.max_pixels == 1_000_000
    assert ElaAnalyzer.from_settings(_options(ela={"max_pixels": 4_000_000})).policy.max_pixels == 4_000_000
    assert ElaAnalyzer.from_settings(Settings()).policy == ElaAnalyzer.default_policy


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"watermark": {"max_pixel": "10"}}, "watermark has no option max_pixel (its options: max_pixels)"),
        ({"watermark": {"max_pixels": "lots"}}, "watermark.max_pixels must be a int, not 'lots'"),
        ({"video_detector": {"audio": "perhaps"}}, "video_detector.audio must be a bool"),
        ({"video_detector": {"fps": "nan"}}, "video_detector.fps must be a float"),
        ({"metadata": {"anything": "1"}}, "metadata has no option anything (its options: none)"),
    ],
)
def test_a_wrong_option_is_refused_with_its_name(options: dict[str, dict[str, object]], message: str) -> None:
    cls = AnalyzerRegistry.discover().get(next(iter(options)))
    policy = VideoPolicy() if cls is VideoDetector else getattr(cls, "default_policy", WatermarkPolicy())
    with pytest.raises(ConfigurationError) as caught:
        cls.configured(policy, _options(**options))
    assert message in caught.value.message


def test_a_wrong_option_stops_the_engine_instead_of_dropping_the_analyzer() -> None:
    with pytest.raises(ConfigurationError, match=r"watermark\.max_pixels"):
        Engine.from_settings(_options(watermark={"max_pixels": "lots"}).with_(analyzers=("watermark",)))
    with pytest.raises(ConfigurationError, match="options for unknown analyzers watermarks"):
        Engine.from_settings(_options(watermarks={"max_pixels": "10"}).with_(analyzers=("watermark",)))


def test_a_broken_settings_file_is_a_configuration_error(tmp_path: Path) -> None:
    file = tmp_path / "bad.toml"
    file.write_text("[analyzers.video_detector\nfps = 2", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="CIVICSHIELD_SETTINGS_FILE"):
        Settings.from_env({"CIVICSHIELD_SETTINGS_FILE": str(file)})


@pytest.mark.parametrize("value", ["0", "two", "-1", "65"])
def test_analysis_threads_outside_one_to_64_are_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="CIVICSHIELD_ANALYSIS_THREADS"):
        Settings.from_env({"CIVICSHIELD_ANALYSIS_THREADS": value})
    assert Settings.from_env({"CIVICSHIELD_ANALYSIS_THREADS": "1"}).analysis_threads == 1
    assert Settings.from_env({}).analysis_threads == 2
