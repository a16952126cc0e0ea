"""Trust profiles: generated settings, shipped files, and startup failures for bad anchors."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources
from pathlib import Path

import pytest

from civicshield.errors import ConfigurationError
from civicshield.provenance import TrustPolicy, trust_lists
from civicshield.settings import Settings

from ..conftest import TESTDATA

UPSTREAM = TESTDATA.parent / "c2pa-trust"
DATA = resources.files("civicshield").joinpath("data/trust")


def test_default_profile_is_verify() -> None:
    assert TrustPolicy.from_settings(Settings()).profile == "verify"


@pytest.mark.parametrize("profile", ["none", "c2pa", "verify"])
def test_settings_are_offline(profile: str) -> None:
    settings = TrustPolicy(profile).c2pa_settings()  # type: ignore[arg-type]
    assert settings["verify"]["remote_manifest_fetch"] is False
    assert settings["verify"]["ocsp_fetch"] is False
    assert "allowed_list" not in settings.get("trust", {}), "flat trust.allowed_list is ignored by c2pa"


def test_profiles_use_list_shaped_anchors() -> None:
    assert "trust" not in TrustPolicy("none").c2pa_settings()
    c2pa = TrustPolicy("c2pa").c2pa_settings()["trust"]["anchors"]
    assert [a["trust_kind"] for a in c2pa] == ["manifest", "tsa"]
    verify = TrustPolicy("verify").c2pa_settings()["trust"]["anchors"]
    assert [a["trust_kind"] for a in verify] == ["manifest", "tsa", "manifest"]
    assert "allowed_list" in verify[2]
    assert "1.3.6.1.5.5.7.3.4" in verify[2]["trust_config"]


def test_extra_anchors_are_added_to_any_profile(tmp_path: Path) -> None:
    pem = (TESTDATA / "c2pa/c2pa-rs/fixtures/certs/trust/test_cert_root_bundle.pem").read_text()
    anchors_file = tmp_path / "anchors.pem"
    anchors_file.write_text(pem)
    policy = TrustPolicy.from_settings(Settings(trust="c2pa", extra_trust_anchors=anchors_file))
    anchors = policy.c2pa_settings()["trust"]["anchors"]
    assert anchors[-1] == {"trust_kind": "manifest", "trust_anchors": pem}
    assert policy.describe() == {
        "profile": "c2pa",
        "lists": ["c2pa-conformance", "c2pa-conformance-tsa"],
        "extra_anchors": str(anchors_file),
    }


def test_missing_anchor_file_fails_at_startup(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read extra trust anchors"):
        TrustPolicy.from_settings(Settings(extra_trust_anchors=tmp_path / "nope.pem"))


def test_anchor_file_without_certificates_fails_at_startup(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ConfigurationError, match="no PEM certificate"):
        TrustPolicy.from_settings(Settings(extra_trust_anchors=bad))


def test_unknown_profile_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        TrustPolicy("everyone")  # type: ignore[arg-type]


def test_every_shipped_file_is_referenced_or_a_license() -> None:
    referenced = {
        f for t in (*trust_lists("verify"),) for f in (t.anchors, t.allowed_list, t.trust_config) if f
    }
    shipped = {f"{d.name}/{f.name}" for d in DATA.iterdir() if d.is_dir() for f in d.iterdir()}
    assert shipped - referenced == {"c2pa-conformance/LICENSE", "cai-verify-site/LICENSE-APACHE"}
    assert DATA.joinpath("ATTRIBUTION.md").is_file()


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason="upstream trust material not present")
def test_shipped_files_match_upstream() -> None:
    pairs = {
        "c2pa-conformance/C2PA-TRUST-LIST.pem": "c2pa-conformance-public/C2PA-TRUST-LIST.pem",
        "c2pa-conformance/C2PA-TSA-TRUST-LIST.pem": "c2pa-conformance-public/C2PA-TSA-TRUST-LIST.pem",
        "cai-verify-site/anchors.pem": "cai-verify-site-itl/anchors.pem",
        "cai-verify-site/store.cfg": "cai-verify-site-itl/store.cfg",
    }
    for ours, theirs in pairs.items():
        assert DATA.joinpath(ours).read_bytes() == (UPSTREAM / theirs).read_bytes(), ours


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason="upstream trust material not present")
def test_allowed_hashes_are_the_upstream_allowed_certificates() -> None:
    """We ship base64 SHA-256 digests instead of the 180 kB PEM list; c2pa accepts either form."""
    pem = (UPSTREAM / "cai-verify-site-itl/allowed.pem").read_text()
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S)
    digests = {
        base64.b64encode(hashlib.sha256(base64.b64decode("".join(b.split()))).digest()).decode()
        for b in blocks
    }
    shipped = {
        line.strip()
        for line in DATA.joinpath("cai-verify-site/allowed.sha256.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert shipped == digests
    assert len(shipped) == 86
