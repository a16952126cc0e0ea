"""The model registry: states, verification of files, the promotion rule, history."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from civicshield.analyzers.ml.clip import HEAD_FILE, HEAD_SHA256
from civicshield.analyzers.ml.weights import shipped_file, verified
from civicshield.errors import AnalyzerUnavailable, ConfigurationError, Conflict, NotFound, UsageError
from civicshield.learning.promotion import Comparison, Tally
from civicshield.learning.registry import ModelRegistry

MODEL = "clip_detector"


def _comparison(gain: int, check_flagged: int = 0, active: str = "shipped") -> Comparison:
    return Comparison(
        active_version=active,
        reviewed_active=Tally(40, 20, 40, 0),
        reviewed_candidate=Tally(40, 20 + gain, 40, 0),
        check_active=Tally(0, 0, 96, 0),
        check_candidate=Tally(0, 0, 96, check_flagged),
    )


def _register(registry: ModelRegistry, version: str, comparison: Comparison) -> None:
    data = shipped_file(HEAD_FILE, HEAD_SHA256, "test").read_bytes()
    registry.register(
        MODEL,
        version,
        model_file=data,
        card=f"# {version}\n",
        comparison=comparison,
        sha256=hashlib.sha256(data).hexdigest(),
        actor="operator",
    )


def test_an_empty_registry_has_no_active_or_shadow_model(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    assert registry.active(MODEL) is None
    assert registry.shadow(MODEL) is None
    assert registry.versions(MODEL) == []


def test_a_candidate_goes_through_shadow_before_promotion(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    _register(registry, "fb-1", _comparison(gain=10))
    assert registry.get(MODEL, "fb-1").state == "candidate"
    with pytest.raises(Conflict, match="only after running in shadow"):
        registry.promote(MODEL, "fb-1", actor="operator")
    registry.start_shadow(MODEL, "fb-1", actor="operator")
    shadow = registry.shadow(MODEL)
    assert shadow is not None and shadow.version == "fb-1"
    assert verified(shadow.file, shadow.sha256, "test") == shadow.file
    decision = registry.promote(MODEL, "fb-1", actor="operator")
    assert decision.approved
    active = registry.active(MODEL)
    assert active is not None and active.version == "fb-1"
    assert registry.shadow(MODEL) is None
    assert [h["action"] for h in registry.history(MODEL)] == ["register", "shadow", "promote"]


def test_a_refused_promotion_changes_nothing_and_says_why(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    _register(registry, "fb-1", _comparison(gain=10, check_flagged=3))
    registry.start_shadow(MODEL, "fb-1", actor="operator")
    with pytest.raises(Conflict) as caught:
        registry.promote(MODEL, "fb-1", actor="operator")
    assert "flags 3 of 96 genuine check photos" in caught.value.message
    assert caught.value.detail["reasons"]
    assert registry.active(MODEL) is None
    assert registry.get(MODEL, "fb-1").state == "shadow"
    assert registry.history(MODEL)[-1]["action"] == "promotion refused"


def test_a_comparison_with_another_model_than_the_one_in_use_is_refused(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    _register(registry, "fb-1", _comparison(gain=10))
    registry.start_shadow(MODEL, "fb-1", actor="op")
    registry.promote(MODEL, "fb-1", actor="op")
    _register(registry, "fb-2", _comparison(gain=10))  # measured against "shipped", but fb-1 is in use
    registry.start_shadow(MODEL, "fb-2", actor="op")
    with pytest.raises(Conflict, match="measured against shipped, but fb-1 is in use"):
        registry.promote(MODEL, "fb-2", actor="op")


def test_retiring_the_active_version_falls_back_to_the_shipped_model(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    _register(registry, "fb-1", _comparison(gain=10))
    registry.start_shadow(MODEL, "fb-1", actor="op")
    registry.promote(MODEL, "fb-1", actor="op")
    with pytest.raises(UsageError, match="needs a reason"):
        registry.retire(MODEL, "fb-1", actor="op", reason=" ")
    retired = registry.retire(MODEL, "fb-1", actor="op", reason="reviewers report false flags")
    assert retired.state == "retired"
    assert registry.active(MODEL) is None
    with pytest.raises(Conflict, match="retired"):
        registry.start_shadow(MODEL, "fb-1", actor="op")


def test_versions_are_never_overwritten_and_names_are_checked(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    _register(registry, "fb-1", _comparison(gain=10))
    with pytest.raises(Conflict, match="already registered"):
        _register(registry, "fb-1", _comparison(gain=10))
    with pytest.raises(UsageError, match="lower-case"):
        _register(registry, "../evil", _comparison(gain=10))
    with pytest.raises(NotFound):
        registry.start_shadow(MODEL, "nope", actor="op")


def test_a_wrong_sha256_is_refused_at_registration(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    with pytest.raises(UsageError, match="sha256"):
        registry.register(
            MODEL, "fb-1", model_file=b"{}", card="", comparison=_comparison(1), sha256="0" * 64, actor="op"
        )
    assert registry.versions(MODEL) == []


def test_an_altered_model_file_is_a_load_failure(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    _register(registry, "fb-1", _comparison(gain=10))
    registry.start_shadow(MODEL, "fb-1", actor="op")
    entry = registry.get(MODEL, "fb-1")
    entry.file.write_bytes(entry.file.read_bytes().replace(b'"bias"', b'"bias" ', 1))
    with pytest.raises(AnalyzerUnavailable, match="altered"):
        verified(entry.file, entry.sha256, "clip_detector")


def test_a_damaged_index_is_a_configuration_error(tmp_path: Path) -> None:
    root = tmp_path / "models"
    root.mkdir()
    (root / "registry.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="unreadable"):
        ModelRegistry(root).active(MODEL)
    (root / "registry.json").write_text(json.dumps({"format": "other"}), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not a civicshield model-registry"):
        ModelRegistry(root).active(MODEL)
