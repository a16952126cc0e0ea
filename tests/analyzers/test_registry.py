from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from civicshield.analyzers.registry import GROUP, AnalyzerRegistry
from civicshield.errors import AnalyzerUnavailable, ConfigurationError
from civicshield.settings import Settings


def _ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=GROUP)


def test_builtins_register_through_entry_points() -> None:
    registry = AnalyzerRegistry.discover()
    assert {"c2pa", "metadata", "watermark", "phash", "known_fakes", "official_media"} <= set(
        registry.names()
    )
    assert registry.failures == {}


def test_missing_dependency_is_a_named_load_failure() -> None:
    registry = AnalyzerRegistry.discover(
        [
            _ep("ghost", "civicshield_no_such_module:Ghost"),
            _ep("needs_dep", "tests.analyzers.plugin_missing_dep:Plugin"),
        ]
    )
    assert registry.names() == []
    assert "not installed" in registry.failures["ghost"].reason
    assert "definitely_not_installed_pkg" in registry.failures["needs_dep"].reason
    with pytest.raises(AnalyzerUnavailable, match="needs_dep"):
        registry.get("needs_dep")
    with pytest.raises(AnalyzerUnavailable):
        registry.build(Settings(), ["needs_dep"])


def test_duplicate_names_fail_loudly() -> None:
    eps = [
        _ep("c2pa", "civicshield.analyzers.c2pa:C2paAnalyzer"),
        _ep("c2pa", "civicshield.analyzers.metadata:MetadataAnalyzer"),
    ]
    with pytest.raises(ConfigurationError, match="two analyzers"):
        AnalyzerRegistry.discover(eps)


def test_entry_point_name_must_match_analyzer_name() -> None:
    with pytest.raises(ConfigurationError, match="named"):
        AnalyzerRegistry.discover([_ep("renamed", "civicshield.analyzers.metadata:MetadataAnalyzer")])


def test_non_analyzer_entry_point_is_a_failure() -> None:
    registry = AnalyzerRegistry.discover([_ep("path", "pathlib:Path")])
    assert "not an Analyzer" in registry.failures["path"].reason


def test_unknown_name() -> None:
    with pytest.raises(AnalyzerUnavailable, match="no analyzer named"):
        AnalyzerRegistry.discover([]).get("nope")


def test_an_opt_in_analyzer_runs_only_when_named() -> None:
    """The video detector is at chance on face swaps and costs about a second per second of video: off by
    default, on when a deployment names it."""
    from civicshield.analyzers.registry import AnalyzerRegistry

    registry = AnalyzerRegistry.discover()
    assert "video_detector" in registry.names()
    assert "video_detector" not in registry.default_names()
    named = registry.assemble(Settings(analyzers=("video_detector",)), ("video_detector",))
    assert [a.name for a in named.analyzers] + [u.analyzer for u in named.unavailable] == ["video_detector"]
    default = registry.assemble(Settings(), None)
    assert "video_detector" not in [a.name for a in default.analyzers] + [
        u.analyzer for u in default.unavailable
    ]
    for analyzer in [*named.analyzers, *default.analyzers]:
        analyzer.close()
