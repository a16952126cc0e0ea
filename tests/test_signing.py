"""Signing with Content Credentials and reading the result back (demo signer and c2pa-rs test certs)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import c2pa
import pytest
from cryptography import x509

from civicshield.analyzers.c2pa import C2paAnalyzer
from civicshield.errors import SigningError
from civicshield.media import Media
from civicshield.provenance import TrustPolicy, ValidationState, read_credentials
from civicshield.provenance.trust import OFFLINE_VERIFY
from civicshield.signing import DEMO_CA_FILE, infer_alg, make_demo_signer, sign_media

from .conftest import TESTDATA

FIXTURES = TESTDATA / "c2pa/c2pa-rs/fixtures"
CERTS = FIXTURES / "certs"
UNSIGNED = {
    "jpeg": FIXTURES / "no_manifest.jpg",
    "png": FIXTURES / "libpng-test.png",
    "mp4": FIXTURES / "video1_no_manifest.mp4",
    "wav": FIXTURES / "sample1.wav",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes, Path]:
    directory = tmp_path_factory.mktemp("demo-signer")
    chain, key = make_demo_signer(directory, organization="Example Electoral Commission")
    return chain.read_bytes(), key.read_bytes(), directory / DEMO_CA_FILE


def _sign(demo: tuple[bytes, bytes, Path], src: Path, dst: Path, **kwargs: Any) -> None:
    chain, key, _ = demo
    sign_media(
        src,
        dst,
        cert_chain_pem=chain,
        private_key_pem=key,
        organization="Example Electoral Commission",
        **kwargs,
    )


def test_demo_signer_is_a_proper_chain(demo: tuple[bytes, bytes, Path]) -> None:
    chain, key, ca_path = demo
    leaf, ca = x509.load_pem_x509_certificates(chain)
    assert leaf.issuer == ca.subject
    assert ca.subject == x509.load_pem_x509_certificate(ca_path.read_bytes()).subject
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert "untrusted" in ca.subject.rfc4514_string()
    assert infer_alg(chain, key) == "es256"


@pytest.mark.parametrize("kind", sorted(UNSIGNED))
def test_sign_and_read_back(kind: str, demo: tuple[bytes, bytes, Path], tmp_path: Path) -> None:
    src = UNSIGNED[kind]
    dst = tmp_path / f"signed{src.suffix}"
    chain, key, ca_path = demo
    item = sign_media(
        src,
        dst,
        cert_chain_pem=chain,
        private_key_pem=key,
        organization="Example Electoral Commission",
        digital_source_type="digitalCapture",
    )
    assert item.path == dst
    assert item.alg == "ES256"
    assert item.actions == ("c2pa.created",)
    assert item.digital_source_type == "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"

    untrusted = read_credentials(dst, trust=TrustPolicy("verify"))
    assert untrusted.state is ValidationState.VALID
    assert untrusted.active_failures == ("signingCredential.untrusted",)
    assert untrusted.source_terms() == ("digitalCapture",)
    assert untrusted.active is not None
    assert untrusted.active.authors == ("Example Electoral Commission",)
    assert untrusted.signer is not None
    assert untrusted.signer.organization == "Example Electoral Commission"
    assert untrusted.signer.tsa_time is None  # no time-stamp authority unless asked

    trusted = read_credentials(dst, trust=TrustPolicy("verify", ca_path.read_text(), str(ca_path)))
    assert trusted.state is ValidationState.TRUSTED
    assert trusted.active_failures == ()


def test_analyzer_trusts_the_demo_ca_when_told(demo: tuple[bytes, bytes, Path], tmp_path: Path) -> None:
    from civicshield.settings import Settings

    dst = tmp_path / "signed.jpg"
    _sign(demo, UNSIGNED["jpeg"], dst)
    analyzer = C2paAnalyzer.from_settings(Settings(extra_trust_anchors=demo[2]))
    signal = analyzer.analyze(Media.open(dst))
    assert {f.code for f in signal.findings} == {"c2pa.trusted", "c2pa.capture_declared"}
    assert signal.score is not None
    assert signal.score <= 0.05


def test_ai_source_type_round_trips_to_ai_declared(demo: tuple[bytes, bytes, Path], tmp_path: Path) -> None:
    dst = tmp_path / "generated.png"
    _sign(
        demo,
        UNSIGNED["png"],
        dst,
        digital_source_type="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
    )
    signal = C2paAnalyzer(TrustPolicy("none")).analyze(Media.open(dst))
    assert {"c2pa.ai_declared", "c2pa.valid_untrusted"} <= {f.code for f in signal.findings}


def test_opened_action_records_the_parent(demo: tuple[bytes, bytes, Path], tmp_path: Path) -> None:
    dst = tmp_path / "edited.jpg"
    _sign(demo, UNSIGNED["jpeg"], dst, actions=["c2pa.opened", {"action": "c2pa.color_adjustments"}])
    report = read_credentials(dst, trust=TrustPolicy("none"))
    assert report.state is ValidationState.VALID
    assert [a.action for a in report.actions] == ["c2pa.opened", "c2pa.color_adjustments"]
    assert report.active is not None
    assert report.active.ingredients[0].relationship == "parentOf"


def test_signing_in_place(demo: tuple[bytes, bytes, Path], tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    shutil.copy(UNSIGNED["jpeg"], path)
    _sign(demo, path, path)
    assert read_credentials(path, trust=TrustPolicy("none")).state is ValidationState.VALID
    assert [p.name for p in tmp_path.iterdir()] == ["photo.jpg"]  # no temporary file left behind


def _flip_jpeg_pixels(data: bytes) -> bytes:
    start = data.rindex(b"\xff\xda")  # last start-of-scan: the main image, after the manifest segments
    pos = (start + len(data)) // 2
    while data[pos] in (0xFF, 0xFE) or data[pos - 1] == 0xFF:
        pos += 1
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]


def _flip_png_pixels(data: bytes) -> bytes:
    pos = data.rindex(b"IDAT") + 12
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]


@pytest.mark.parametrize(("kind", "flip"), [("jpeg", _flip_jpeg_pixels), ("png", _flip_png_pixels)])
def test_pixel_change_after_signing_is_tampered(
    kind: str, flip: object, demo: tuple[bytes, bytes, Path], tmp_path: Path
) -> None:
    dst = tmp_path / f"signed{UNSIGNED[kind].suffix}"
    _sign(demo, UNSIGNED[kind], dst)
    damaged = flip(dst.read_bytes())  # type: ignore[operator]
    report = read_credentials(damaged, "image/" + kind, trust=TrustPolicy("none"))
    assert "assertion.dataHash.mismatch" in report.active_failures
    signal = C2paAnalyzer(TrustPolicy("none")).analyze(Media.from_bytes(damaged, name=dst.name))
    assert "c2pa.tampered" in {f.code for f in signal.findings}


@pytest.mark.parametrize(
    ("name", "alg", "read_alg"),
    [
        ("es256", "ES256", "Es256"),
        ("es384", "ES384", "Es384"),
        ("ps256", "PS256", "Ps256"),
        ("ed25519", "ED25519", "Ed25519"),
    ],
)
def test_sign_with_c2pa_rs_test_certs(name: str, alg: str, read_alg: str, tmp_path: Path) -> None:
    dst = tmp_path / "signed.jpg"
    item = sign_media(
        UNSIGNED["jpeg"],
        dst,
        cert_chain_pem=(CERTS / f"{name}.pub").read_bytes(),
        private_key_pem=(CERTS / f"{name}.pem").read_bytes(),
        organization="C2PA test org",
    )
    assert item.alg == alg
    anchors = (CERTS / "trust/test_cert_root_bundle.pem").read_text()
    report = read_credentials(dst, trust=TrustPolicy("none", anchors, "c2pa-rs test roots"))
    assert report.state is ValidationState.TRUSTED
    assert report.signer is not None
    assert report.signer.alg == read_alg


def test_allowed_list_of_certificate_digests_is_honoured(
    demo: tuple[bytes, bytes, Path], tmp_path: Path
) -> None:
    """Why we ship digests instead of allowed.pem: c2pa trusts an end-entity whose SHA-256 is listed."""
    import base64
    import hashlib

    from cryptography.hazmat.primitives.serialization import Encoding

    dst = tmp_path / "signed.jpg"
    _sign(demo, UNSIGNED["jpeg"], dst)
    leaf = x509.load_pem_x509_certificates(demo[0])[0]
    digest = base64.b64encode(hashlib.sha256(leaf.public_bytes(Encoding.DER)).digest()).decode()
    unrelated_anchor = (CERTS / "trust/test_cert_root_bundle.pem").read_text()
    settings = {
        "version": 1,
        "verify": OFFLINE_VERIFY,
        "trust": {
            "anchors": [
                {
                    "trust_kind": "manifest",
                    "trust_anchors": unrelated_anchor,
                    "allowed_list": f"# demo\n{digest}\n",
                }
            ]
        },
    }
    with (
        c2pa.Context.from_dict(settings) as ctx,
        c2pa.Reader("image/jpeg", io.BytesIO(dst.read_bytes()), context=ctx) as reader,
    ):
        assert json.loads(reader.json())["validation_state"] == "Trusted"


def test_bad_credentials_are_signing_errors(demo: tuple[bytes, bytes, Path], tmp_path: Path) -> None:
    chain, key, _ = demo
    other_key = (CERTS / "es256.pem").read_bytes()
    cases = [
        ({"private_key_pem": b"not a key"}, "cannot load the private key"),
        ({"cert_chain_pem": b"not a cert"}, "cannot load the certificate chain"),
        ({"private_key_pem": other_key}, "does not belong"),
        ({"digital_source_type": "madeByAI"}, "unknown digital source type"),
        ({"actions": ["c2pa.edited"]}, "first action"),
        ({"organization": " "}, "organization"),
    ]
    for change, message in cases:
        kwargs: dict[str, object] = {
            "cert_chain_pem": chain,
            "private_key_pem": key,
            "organization": "Example Electoral Commission",
            **change,
        }
        with pytest.raises(SigningError, match=message):
            sign_media(UNSIGNED["jpeg"], tmp_path / "x.jpg", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "x.jpg").exists()


def test_unsupported_or_missing_media_is_a_signing_error(
    demo: tuple[bytes, bytes, Path], tmp_path: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(SigningError, match="unsupported media"):
        _sign(demo, text, tmp_path / "out.txt")
    with pytest.raises(SigningError, match="cannot read"):
        _sign(demo, tmp_path / "missing.jpg", tmp_path / "out.jpg")
    with pytest.raises(SigningError, match="cannot write"):
        _sign(demo, UNSIGNED["jpeg"], tmp_path / "no-such-dir" / "out.jpg")
