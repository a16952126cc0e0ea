"""Exact provenance states on the pages (issue 11, part 4): only a failed hard binding reads as "changed".

Seen: ``crater-lake-cr.jpg`` (an iPhone photo edited in Lightroom, credentials stored remotely) and
``ChatGPT_Image.png`` (an expired, untrusted signing certificate) both read "Invalid: the file or its
credentials were changed" on the public page, although nothing was changed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from civicshield.provenance.vocab import credential_status
from civicshield.signing import sign_media

from .conftest import Pages, csrf_of, poster_bytes

CHANGED = "Changed after signing"


@pytest.mark.parametrize(
    ("present", "state", "failures", "error", "expected"),
    [
        (False, None, [], None, "absent"),
        (True, None, [], "remote_manifest", "remote"),
        (True, "Invalid", ["signingCredential.expired", "signingCredential.untrusted"], None, "signer"),
        (True, "Invalid", ["signingCredential.invalid"], None, "signer"),
        (True, "Invalid", ["assertion.dataHash.mismatch", "signingCredential.untrusted"], None, "changed"),
        (True, "Invalid", ["claim.missing"], None, "invalid"),
        (True, "Valid", [], None, "valid_untrusted"),
        (True, "Trusted", [], None, "trusted"),
    ],
)
def test_each_state_has_its_own_status(
    present: bool, state: str | None, failures: list[str], error: str | None, expected: str
) -> None:
    assert credential_status(present=present, state=state, failures=failures, error_code=error) == expected


def _verify(pages: Pages, name: str, data: bytes) -> str:
    token = csrf_of(pages.client.get("/verify").text)
    r = pages.client.post(
        "/verify", data={"csrf_token": token}, files={"file": (name, data)}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200, r.text[:300]
    return r.text


def test_remote_and_untrusted_credentials_are_not_called_changed(pages: Pages, testdata: Path) -> None:
    real = testdata / "c2pa-real" / "contentauth-example-assets"
    remote = _verify(pages, "crater-lake-cr.jpg", (real / "crater-lake-cr.jpg").read_bytes())
    assert "stored online, not fetched" in remote and CHANGED not in remote and "Invalid" not in remote
    expired = _verify(pages, "ChatGPT_Image.png", (real / "ChatGPT_Image.png").read_bytes())
    assert "Signature not trusted" in expired and CHANGED not in expired
    assert "signingCredential.expired" in expired  # the raw code, under details


def test_content_changed_after_signing_still_reads_changed(pages: Pages, tmp_path: Path) -> None:
    from civicshield.signing import make_demo_signer

    chain, key = make_demo_signer(tmp_path / "signer", organization="Kiesraad")
    plain, signed = tmp_path / "poster.jpg", tmp_path / "signed.jpg"
    plain.write_bytes(poster_bytes("OFFICIAL", 4))
    sign_media(
        plain, signed, cert_chain_pem=chain.read_bytes(), private_key_pem=key.read_bytes(), organization="K"
    )
    data = bytearray(signed.read_bytes())
    data[-200] ^= 0xFF  # one byte of the picture's scan data, the manifest untouched
    changed = _verify(pages, "altered.jpg", bytes(data))
    assert CHANGED in changed
