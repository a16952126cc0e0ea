from __future__ import annotations

import dataclasses

import pytest

from civicshield.signals import Finding, Signal


def test_abstention_is_explicit() -> None:
    sig = Signal.abstain("c2pa", "no Content Credentials")
    assert sig.abstained
    assert sig.score is None
    assert sig.to_dict()["abstain_reason"] == "no Content Credentials"


def test_score_without_reason_or_out_of_range_is_rejected() -> None:
    with pytest.raises(ValueError, match="abstain_reason"):
        Signal("x", None, 0.0, "s")
    with pytest.raises(ValueError, match="outside"):
        Signal("x", 1.5, 0.5, "s")
    with pytest.raises(ValueError, match="confidence"):
        Signal("x", 0.5, -0.1, "s")


def test_signals_are_frozen() -> None:
    sig = Signal("x", 0.2, 0.5, "s", evidence={"a": [1, 2]}, findings=[Finding("x.y", "m", {"k": 1})])
    with pytest.raises(dataclasses.FrozenInstanceError):
        sig.score = 0.9  # type: ignore[misc]
    with pytest.raises(TypeError):
        sig.evidence["b"] = 1  # type: ignore[index]
    assert sig.has("x.y")
    assert sig.to_dict()["findings"][0]["detail"] == {"k": 1}


def test_to_dict_is_json_safe() -> None:
    import json

    sig = Signal("x", 0.2, 0.5, "s", evidence={"raw": b"\x01\x02", "nested": {"t": (1, 2)}, "obj": object()})
    json.dumps(sig.to_dict())
