"""The c2pa analyzer on real and reference media: findings, scores, abstentions and damaged input."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from civicshield.analyzers.c2pa import C2paAnalyzer, C2paScoring, _decide, signal_from_report
from civicshield.errors import MediaError
from civicshield.media import Media
from civicshield.provenance import ReadErrorCode, TrustPolicy, read_credentials
from civicshield.settings import Settings
from civicshield.signals import Finding, Signal

from ..conftest import TESTDATA

FIXTURES = TESTDATA / "c2pa/c2pa-rs/fixtures"
REAL = TESTDATA / "c2pa-real"
ANALYZERS = {p: C2paAnalyzer(TrustPolicy(p)) for p in ("none", "c2pa", "verify")}  # type: ignore[arg-type]


def _analyze(path: Path, profile: str = "verify") -> Signal:
    signal = ANALYZERS[profile].analyze(Media.open(path))
    json.dumps(signal.to_dict())
    return signal


def _codes(signal: Signal) -> set[str]:
    return {f.code for f in signal.findings}


def test_from_settings_uses_the_trust_profile() -> None:
    analyzer = C2paAnalyzer.from_settings(Settings(trust="c2pa"))
    assert analyzer.trust.profile == "c2pa"
    assert analyzer.name == "c2pa"


@pytest.mark.parametrize(
    "file",
    [
        "contentauth-example-assets/ChatGPT_Image.png",
        "contentauth-example-assets/Firefly_tabby_cat.jpg",
        "contentauth-c2pa-js/firefly_thirdparty_gemini.png",
        "contentauth-c2pa-js-legacy/third-party-model.png",
        "contentauth-c2pa-js-legacy/genai-actions-v2.jpg",
        "contentauth-c2pa-js-legacy/composite-dst.jpg",
        "contentauth-c2pa-js-legacy/gen-fill.jpg",
    ],
)
def test_generated_media_is_declared_ai(file: str) -> None:
    signal = _analyze(REAL / file)
    assert "c2pa.ai_declared" in _codes(signal)
    assert signal.score is not None
    assert signal.score >= 0.9
    (finding,) = [f for f in signal.findings if f.code == "c2pa.ai_declared"]
    assert finding.detail["declarations"]
    assert "(in " in finding.message


def test_chatgpt_declaration_names_the_ingredient_manifest() -> None:
    signal = _analyze(REAL / "contentauth-example-assets/ChatGPT_Image.png")
    (finding,) = [f for f in signal.findings if f.code == "c2pa.ai_declared"]
    assert "ingredient" in finding.message
    assert finding.detail["declarations"][0]["active"] is False
    assert {"c2pa.invalid"} <= _codes(signal)  # the signer certificate expired and no TSA time was recorded
    assert "c2pa.trusted" not in _codes(signal)


def test_firefly_is_trusted_under_verify_and_untrusted_under_none() -> None:
    path = REAL / "contentauth-example-assets/Firefly_tabby_cat.jpg"
    verify, none = _analyze(path, "verify"), _analyze(path, "none")
    assert {"c2pa.trusted", "c2pa.ai_declared"} <= _codes(verify)
    assert {"c2pa.valid_untrusted", "c2pa.ai_declared"} <= _codes(none)
    assert verify.confidence > none.confidence


@pytest.mark.parametrize("file", ["XCA.jpg", "dashinit.mp4"])
def test_content_changed_after_signing_is_tampered(file: str) -> None:
    signal = _analyze(FIXTURES / file)
    assert "c2pa.tampered" in _codes(signal)
    assert "c2pa.invalid" not in _codes(signal)  # the credential itself is fine; the content is not
    assert signal.score is not None
    assert signal.score >= 0.8


@pytest.mark.parametrize("file", ["E-sig-CA.jpg", "adobe-20220124-E-clm-CAICAI.jpg"])
def test_broken_credentials_are_invalid(file: str) -> None:
    signal = _analyze(FIXTURES / file)
    assert _codes(signal) & {"c2pa.invalid"}
    assert not _codes(signal) & {"c2pa.trusted", "c2pa.valid_untrusted"}


def test_valid_untrusted_scores_weakly() -> None:
    signal = _analyze(FIXTURES / "CA.jpg")
    assert _codes(signal) == {"c2pa.valid_untrusted"}
    assert signal.score is not None
    assert signal.confidence <= 0.3


def test_trusted_test_signer_with_extra_anchors() -> None:
    anchors = (FIXTURES / "certs/trust/test_cert_root_bundle.pem").read_text()
    analyzer = C2paAnalyzer(TrustPolicy("none", anchors, "test bundle"))
    signal = analyzer.analyze(Media.open(FIXTURES / "CA.jpg"))
    assert _codes(signal) == {"c2pa.trusted"}
    assert signal.score is not None
    assert signal.score < 0.2
    assert signal.evidence["trust"]["extra_anchors"] == "test bundle"


def test_no_manifest_abstains() -> None:
    signal = _analyze(FIXTURES / "no_manifest.jpg")
    assert signal.abstained
    assert _codes(signal) == {"c2pa.absent"}
    assert "absence is not evidence" in (signal.abstain_reason or "")


@pytest.mark.parametrize(
    ("path", "error_code"),
    [
        (FIXTURES / "cloud.jpg", "remote_manifest"),
        (REAL / "contentauth-example-assets/crater-lake-cr.jpg", "remote_manifest"),
        (FIXTURES / "no_alg.jpg", "unknown_algorithm"),
        (FIXTURES / "prerelease.jpg", "prerelease_manifest"),
    ],
)
def test_unreadable_manifest_abstains(path: Path, error_code: str) -> None:
    signal = _analyze(path)
    assert signal.abstained
    assert _codes(signal) == {"c2pa.unreadable"}
    assert signal.findings[0].detail["error_code"] == error_code


def test_evidence_draws_the_manifest_tree() -> None:
    signal = _analyze(REAL / "contentauth-c2pa-js-legacy/genai-actions-v2.jpg")
    creds = signal.evidence["credentials"]
    assert signal.evidence["trust"]["profile"] == "verify"
    active, *others = creds["manifests"]
    assert active["active"]
    assert active["signer"]["organization"] == "Adobe Inc."
    assert active["claim_generator"]
    assert active["actions"][0]["action"] == "c2pa.edited"
    assert {i["manifest"] for i in active["ingredients"]} & {m["label"] for m in others}
    assert creds["n_manifests"] == 2
    assert creds["state"] == "Trusted"
    assert sorted({d["term"] for d in creds["source_types"]}) == [
        "compositeWithTrainedAlgorithmicMedia",
        "trainedAlgorithmicMedia",
    ]


DAMAGED = [
    FIXTURES / "CA.jpg",
    FIXTURES / "XCA.jpg",
    FIXTURES / "video1.mp4",
    FIXTURES / "legacy.mp4",
    REAL / "contentauth-example-assets/ChatGPT_Image.png",
    REAL / "contentauth-example-assets/car-es-Ps-Cr.jpg",
    FIXTURES / "CACAE-uri-CA.jpg",
]


def _damaged(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = [data[:n] for n in (16, 200, 2_000, len(data) // 3, len(data) // 2, len(data) - 7)]
    for flips in (1, 1, 4, 16, 64, 256):
        buf = bytearray(data)
        for _ in range(flips):
            buf[rng.randrange(len(buf))] ^= rng.randrange(1, 256)
        out.append(bytes(buf))
    return out


# Pillow warns (UserWarning "Truncated File Read") while Media.from_bytes probes damaged EXIF; that is the
# media module's concern, not this analyzer's, so it is ignored here.
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("path", DAMAGED, ids=lambda p: p.name)
def test_damaged_input_gives_a_signal_or_our_error(path: Path) -> None:
    analyzer = ANALYZERS["verify"]
    for i, data in enumerate(_damaged(path.read_bytes(), seed=len(path.name))):
        assert read_credentials(data, trust=analyzer.trust) is not None  # never raises on bytes
        try:
            media = Media.from_bytes(data, name=f"{path.name}#{i}")
        except MediaError:
            continue
        signal = analyzer.analyze(media)
        assert isinstance(signal, Signal)
        json.dumps(signal.to_dict())


def test_failures_that_need_the_network_do_not_make_a_credential_invalid() -> None:
    """Adobe Content Authenticity adds a CAWG identity assertion whose DID only resolves online."""
    signal = _analyze(REAL / "contentauth-example-assets/cloudscape-ACA-Cr.jpeg", "verify")
    assert signal.evidence["credentials"]["state"] == "Invalid"  # what c2pa says, kept in the evidence
    assert _codes(signal) == {"c2pa.trusted"}
    (finding,) = signal.findings
    assert finding.detail["unverified_offline"] == ["cawg.ica.did_unavailable"]
    mismatch = _analyze(REAL / "contentauth-c2pa-js-legacy/ims_multiple_manifests.jpg", "verify")
    assert _codes(mismatch) == {"c2pa.invalid"}


def test_capture_declared_in_an_ingredient_only_is_weaker() -> None:
    """Trusted + capture in the active manifest scores lowest; capture only in history does not."""
    trusted = Finding("c2pa.trusted", "t")
    active = Finding("c2pa.capture_declared", "c", {"active": True})
    historic = Finding("c2pa.capture_declared", "c", {"active": False})
    scoring = C2paScoring()
    assert _decide((trusted, active), scoring) == scoring.trusted_capture
    assert _decide((trusted, historic), scoring) == scoring.trusted
    assert _decide((trusted, active, Finding("c2pa.ai_declared", "a")), scoring) == scoring.ai_trusted


def test_formats_the_reader_does_not_handle_abstain_as_unsupported() -> None:
    """An Ogg/Opus file is media we decode, but c2pa cannot carry or read credentials in it."""
    report = read_credentials(b"OggS" + bytes(300), "audio/ogg; codecs=opus", trust=TrustPolicy("none"))
    assert report.error is not None
    assert report.error.code is ReadErrorCode.UNSUPPORTED_TYPE
    signal = signal_from_report(report, TrustPolicy("none"))
    assert signal.abstained
    assert _codes(signal) == {"c2pa.unsupported_format"}
