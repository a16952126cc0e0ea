from __future__ import annotations

import json
from pathlib import Path

import pytest

from civicshield.errors import ConfigurationError
from civicshield.fusion import Label, Policy, fuse
from civicshield.signals import Finding, Signal


def _sig(analyzer: str, *codes: str, score: float = 0.9) -> Signal:
    return Signal(
        analyzer,
        score,
        0.9,
        f"{analyzer} found {codes}",
        findings=tuple(Finding(c, f"{c} message") for c in codes),
    )


def _abstain(analyzer: str, *codes: str) -> Signal:
    return Signal.abstain(
        analyzer, f"{analyzer} has no opinion", findings=[Finding(c, "informational") for c in codes]
    )


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.load()


def test_default_policy_is_versioned(policy: Policy) -> None:
    assert policy.id.startswith("default@")
    assert policy.fallback.label is Label.INCONCLUSIVE


def test_nothing_found_is_inconclusive(policy: Policy) -> None:
    fused = fuse([_abstain("c2pa", "c2pa.absent"), _abstain("metadata"), _abstain("watermark")], policy)
    assert fused.label is Label.INCONCLUSIVE
    assert fused.confidence == 0.0
    assert [r.analyzer for r in fused.reasons] == ["c2pa", "metadata", "watermark"]
    assert not any(r.decisive for r in fused.reasons)


def test_known_fake_outranks_declared_generation(policy: Policy) -> None:
    fused = fuse([_sig("metadata", "metadata.generator"), _sig("known_fakes", "known_fakes.match")], policy)
    assert fused.label is Label.KNOWN_FAKE
    assert fused.reasons[0].code == "known_fakes.match"
    assert fused.reasons[0].decisive
    assert any(r.code == "metadata.generator" and not r.decisive for r in fused.reasons)


def test_trusted_credentials_declaring_ai_are_ai_generated_with_boost(policy: Policy) -> None:
    plain = fuse([_sig("c2pa", "c2pa.ai_declared")], policy)
    trusted = fuse([_sig("c2pa", "c2pa.ai_declared", "c2pa.trusted")], policy)
    assert plain.label is trusted.label is Label.AI_GENERATED_DECLARED
    assert trusted.confidence > plain.confidence


def test_trusted_credentials_alone_are_authentic_provenance(policy: Policy) -> None:
    assert (
        fuse([_sig("c2pa", "c2pa.trusted", "c2pa.capture_declared", score=0.0)], policy).label
        is Label.AUTHENTIC_PROVENANCE
    )


def test_tampering_beats_trust(policy: Policy) -> None:
    assert fuse([_sig("c2pa", "c2pa.trusted", "c2pa.tampered")], policy).label is Label.TAMPERED


def test_altered_official(policy: Policy) -> None:
    fused = fuse([_sig("official_media", "official_media.altered"), _abstain("c2pa", "c2pa.absent")], policy)
    assert fused.label is Label.ALTERED_OFFICIAL


def test_policy_from_file(tmp_path: Path) -> None:
    raw = {
        "name": "strict",
        "version": "9",
        "rules": [{"label": "tampered", "any": ["x.y"], "confidence": 0.5}],
        "fallback": {"label": "inconclusive"},
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(raw))
    policy = Policy.load(path)
    assert policy.id == "strict@9"
    assert fuse([_sig("a", "x.y")], policy).label is Label.TAMPERED


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {
            "name": "x",
            "version": "1",
            "rules": [{"label": "nope", "any": []}],
            "fallback": {"label": "inconclusive"},
        },
    ],
)
def test_malformed_policy_is_a_configuration_error(raw: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        Policy.from_dict(raw)


def test_unreadable_policy_file(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigurationError):
        Policy.load(tmp_path / "bad.json")


def test_detectors_give_likely_labels_with_calibrated_confidence(policy: Policy) -> None:
    synthetic = fuse([_sig("clip_detector", "detector.synthetic", score=0.83)], policy)
    assert synthetic.label is Label.LIKELY_SYNTHETIC
    assert synthetic.confidence == 0.83
    authentic = fuse([_sig("speech_detector", "detector.authentic", score=0.1)], policy)
    assert authentic.label is Label.LIKELY_AUTHENTIC
    assert authentic.confidence == 0.9
    mixed = fuse(
        [_sig("a", "detector.authentic", score=0.1), _sig("b", "detector.synthetic", score=0.7)], policy
    )
    assert mixed.label is Label.LIKELY_SYNTHETIC


def test_provenance_outranks_detectors(policy: Policy) -> None:
    fused = fuse(
        [_sig("c2pa", "c2pa.trusted", score=0.1), _sig("clip_detector", "detector.synthetic")], policy
    )
    assert fused.label is Label.AUTHENTIC_PROVENANCE
    assert any(r.code == "detector.synthetic" and not r.decisive for r in fused.reasons)


def test_a_score_under_every_threshold_is_still_a_reason(policy: Policy) -> None:
    quiet = Signal("speech_detector", 0.61, 0.61, "calibrated probability of a cloned voice 0.61")
    fused = fuse([_sig("metadata", "metadata.generator"), quiet, _abstain("watermark")], policy)
    texts = [(r.analyzer, r.text, r.decisive) for r in fused.reasons]
    assert ("speech_detector", "calibrated probability of a cloned voice 0.61", False) in texts
    # stated after the findings and before the abstentions
    assert [r.analyzer for r in fused.reasons] == ["metadata", "speech_detector", "watermark"]


def test_an_invalid_credential_comes_first_after_what_decided(policy: Policy) -> None:
    fused = fuse(
        [
            _sig("metadata", "metadata.camera"),
            _sig("c2pa", "c2pa.invalid"),
            _sig("clip_detector", "detector.authentic", score=0.1),
        ],
        policy,
    )
    assert fused.label is Label.LIKELY_AUTHENTIC
    assert [r.code for r in fused.reasons[:2]] == ["detector.authentic", "c2pa.invalid"]


def test_weak_signs_from_a_detector_are_uncertain_never_signs_of_generation(policy: Policy) -> None:
    """Issue 11, graded: a detector score at its 1 % cut (or a weak detector's, or a face crop's) is
    "uncertain: weak signs", while only the 0.1 % cut reads "signs of AI generation"; stronger evidence
    in the same item still decides, and weak signs never turn into "no sign found"."""
    weak = fuse([_sig("clip_detector", "detector.possibly_synthetic", score=0.96)], policy)
    assert weak.label is Label.POSSIBLY_SYNTHETIC
    assert weak.confidence == 0.5  # uncertain: never the detector's 96 % next to "uncertain"
    assert "Uncertain" in weak.headline and weak.reasons[0].decisive
    both = fuse(
        [
            _sig("clip_detector", "detector.synthetic", score=0.99),
            _sig("speech_detector", "detector.possibly_synthetic", score=0.7),
        ],
        policy,
    )
    assert both.label is Label.LIKELY_SYNTHETIC
    declared = fuse(
        [_sig("metadata", "metadata.generator"), _sig("faces", "detector.possibly_synthetic")], policy
    )
    assert declared.label is Label.AI_GENERATED_DECLARED
    mixed = fuse(
        [
            _sig("faces", "detector.possibly_synthetic"),
            _sig("clip_detector", "detector.authentic", score=0.1),
        ],
        policy,
    )
    assert mixed.label is Label.POSSIBLY_SYNTHETIC


def test_a_protected_voice_with_weak_signs_of_synthesis_is_a_suspected_impersonation(policy: Policy) -> None:
    fused = fuse(
        [
            _sig("impersonation", "impersonation.voice_match"),
            _sig("speech_detector", "detector.possibly_synthetic", score=0.7),
        ],
        policy,
    )
    assert fused.label is Label.IMPERSONATION_SUSPECTED
