"""Phishing e-mail aimed at protected people and domains: messages written with the standard library's
``EmailMessage``, DKIM signed with dkimpy and a fresh key, and hostile messages built to exceed each bound."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import dkim
import numpy as np
import pytest
import zxingcpp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from PIL import Image
from typer.testing import CliRunner

from civicshield.cli import app
from civicshield.errors import UsageError
from civicshield.protection.email import EmailLimits, assess, dkim_result, read_email
from civicshield.protection.watchlist import Watchlist

WATCHLIST = """
[[person]]
name = "Anna de Vries"
organization = "Kiesraad"

[[domain]]
name = "kiesraad.nl"
organization = "Kiesraad"
"""
PROTECTED = Watchlist.from_dict(
    {"person": [{"name": "Anna de Vries"}], "domain": [{"name": "kiesraad.nl", "organization": "Kiesraad"}]}
)


def message(sender: str, body: str, **headers: str) -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "voter@example.org"
    msg["Subject"] = "Uw stempas"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def test_a_lookalike_sender_and_link_are_phishing() -> None:
    raw = message(
        "Kiesraad <noreply@kiesraad-verificatie.com>",
        "Bevestig uw stempas op https://kiesraad-verificatie.com/login voor vrijdag.",
    )
    verdict = assess(read_email(raw), PROTECTED)
    assert verdict.label == "phishing_suspected"
    assert [f.code for f in verdict.findings] == ["phishing.lookalike_sender", "phishing.lookalike_link"]
    assert "kiesraad.nl (Kiesraad)" in verdict.findings[0].message


def test_a_protected_name_on_mail_from_elsewhere_is_display_name_impersonation() -> None:
    raw = message("Anna de Vries <anna.devries1987@gmail.com>", "Can you send me the login codes?")
    verdict = assess(read_email(raw), PROTECTED)
    assert verdict.label == "phishing_suspected"
    assert [f.code for f in verdict.findings] == ["phishing.display_name"]
    assert "gmail.com" in verdict.findings[0].message


def test_mail_from_the_official_domain_is_not_accused() -> None:
    raw = message(
        "Anna de Vries <anna@kiesraad.nl>", "Zie https://www.kiesraad.nl/verkiezingen voor de uitslag."
    )
    assert assess(read_email(raw), PROTECTED).label == "no_sign_found"


def test_a_failed_authentication_result_is_reported_but_never_accuses_alone() -> None:
    raw = message(
        "Newsletter <news@example.org>",
        "Hello",
        Authentication_Results="mx.example.net; dkim=fail header.d=example.org; spf=pass; dmarc=fail",
    )
    verdict = assess(read_email(raw), PROTECTED)
    assert verdict.label == "no_sign_found"
    assert [f.code for f in verdict.findings] == ["phishing.authentication_failed"]
    assert "dkim, dmarc" in verdict.findings[0].message


def _dkim_signed(body: str) -> tuple[bytes, dict[str, str]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = message("Kiesraad <info@kiesraad.nl>", body)
    signature = dkim.sign(raw, b"sel1", b"kiesraad.nl", pem, include_headers=[b"from", b"to", b"subject"])
    txt = f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"
    return signature + raw, {"sel1._domainkey.kiesraad.nl": txt}


def test_dkim_is_verified_with_the_keys_given_and_a_changed_body_fails() -> None:
    signed, keys = _dkim_signed("De uitslag staat op https://www.kiesraad.nl.\n")
    assert dkim_result(read_email(signed), keys) == "pass"
    assert dkim_result(read_email(signed), {}) is None  # no key supplied: no answer, no DNS
    changed = signed.replace(b"De uitslag", b"Het resultaat")
    facts = read_email(changed)
    verdict = assess(facts, PROTECTED, dkim=dkim_result(facts, keys))
    assert [f.code for f in verdict.findings] == ["phishing.dkim_invalid"]
    assert verdict.label == "no_sign_found"  # a broken signature alone is common on forwarded mail


@pytest.mark.parametrize(
    ("raw", "message_part"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "not an e-mail message"),
        (b"Subject: x\r\nX-Pad: " + b"a" * 300_000 + b"\r\n\r\nbody", "headers are larger"),
        (
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
            + b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(500))
            + b"--b--\r\n",
            "more than 200 parts",
        ),
        (
            b"".join(
                f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode()
                for i in range(60)
            )
            + b"Content-Type: text/plain\r\n\r\ndeep\r\n",
            "nests more than 8 multipart levels",
        ),
    ],
)
def test_hostile_messages_get_a_clear_error(raw: bytes, message_part: str) -> None:
    with pytest.raises(UsageError) as caught:
        read_email(raw, EmailLimits())
    assert message_part in caught.value.message


def test_malformed_addresses_and_idn_are_read_without_failing() -> None:
    raw = message("x <x@xn--zz.com>", "see http://xn--zz/ and https://[::1 and www..example")
    verdict = assess(read_email(raw), PROTECTED)
    assert verdict.label == "no_sign_found"


def test_the_command_line_flags_phishing_and_analyzes_the_attached_poster(tmp_path: Path) -> None:
    from email.message import EmailMessage

    poster = Image.new("RGB", (480, 360), (240, 240, 235))
    code = zxingcpp.create_barcode("https://kiesraad-stemmen.com/", zxingcpp.BarcodeFormat.QRCode).to_image(
        scale=5
    )
    poster.paste(Image.fromarray(np.asarray(code)).convert("RGB"), (200, 120))
    png = io.BytesIO()
    poster.save(png, format="PNG")
    msg = EmailMessage()
    msg["From"] = "Kiesraad <verkiezingen@kiesraad-nl.com>"
    msg["To"] = "voter@example.org"
    msg["Subject"] = "Registreer nu"
    msg.set_content("Scan de code op de poster.")
    msg.add_attachment(png.getvalue(), maintype="image", subtype="png", filename="poster.png")
    eml = tmp_path / "mail.eml"
    eml.write_bytes(msg.as_bytes())
    watchlist = tmp_path / "watchlist.toml"
    watchlist.write_text(WATCHLIST, encoding="utf-8")
    result = CliRunner().invoke(app, ["email", str(eml), "--watchlist", str(watchlist), "--json"])
    assert result.exit_code == 4, result.output
    report = json.loads(result.output)
    assert report["label"] == "phishing_suspected"
    assert report["senders"] == [{"header": "From", "domain": "kiesraad-nl.com"}]
    (attachment,) = report["attachments"]
    assert (attachment["filename"], attachment["label"]) == ("poster.png", "impersonation_suspected")
