"""The protection page's e-mail check: a phishing message imitating a protected domain, as a member
would save it from their mail program (written by the standard library), and a bad upload."""

from __future__ import annotations

from email.message import EmailMessage

from civicshield.service.domain import protection

from .conftest import Pages, principal


def _message(sender: str, link: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Kiesraad <{sender}>"
    msg["To"] = "staff@factcheck.test"
    msg["Subject"] = "Bevestig uw account voor de verkiezingen"
    msg.set_content(f"Log in om uw account te bevestigen: {link}")
    return msg.as_bytes()


def test_a_member_checks_a_suspicious_email_against_the_organizations_domains(pages: Pages) -> None:
    with pages.app.state.rt.db.session() as s:
        protection.add_entry(
            s, principal(pages.app, pages.ids["factcheck:org_admin"]), "domain", "kiesraad.nl"
        )
    csrf = pages.login("factcheck:analyst")
    fake = _message("noreply@kiesraad-verkiezing.com", "https://kiesraad-verkiezing.com/login")
    r = pages.client.post(
        "/ui/protection/email",
        data={"csrf_token": csrf},
        files={"message": ("bevestig.eml", fake, "message/rfc822")},
    )
    assert r.status_code == 200 and "Suspected phishing" in r.text
    assert "kiesraad-verkiezing.com" in r.text and "phishing.lookalike_sender" in r.text
    honest = _message("info@kiesraad.nl", "https://www.kiesraad.nl/")
    r = pages.client.post(
        "/ui/protection/email",
        data={"csrf_token": csrf},
        files={"message": ("ok.eml", honest, "message/rfc822")},
    )
    assert "No sign of phishing found" in r.text
    r = pages.client.post(
        "/ui/protection/email", data={"csrf_token": csrf}, headers={"referer": "/ui/protection"}
    )
    assert r.url.path == "/ui/protection" and "in the field &#39;message&#39;" in r.text  # refused, said
