"""Passkeys in a real browser: Chromium with a virtual authenticator (DevTools protocol, WebAuthn domain).

An admin who must have a second factor registers a passkey from the account page, signs out, and signs in
with the passkey alone; a password sign-in of that account is then refused. The site is served as
``localhost`` (WebAuthn refuses IP addresses as relying party ids).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from civicshield.service import store
from civicshield.service.app import create_app
from civicshield.service.db.tables import Passkey
from civicshield.service.settings import ServiceSettings
from civicshield.settings import Settings

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def localhost_site(tmp_path: Path) -> Iterator[tuple[FastAPI, str]]:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://localhost:{sock.getsockname()[1]}"
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        secret_key="passkeys",
        base_url=url,
        analysis=Settings(data_dir=tmp_path / "a", analyzers=("c2pa", "metadata")),
    )  # second factors enforced, as deployed
    app = create_app(settings)
    with app.state.rt.db.session() as s:
        org = store.create_org(s, "passkey-org", "ngo")
        store.create_user(s, org.id, "admin@passkey.test", "Pat Admin", "org_admin", PASSWORD)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield app, url
    server.should_exit = True
    thread.join(10)
    sock.close()
    app.state.rt.db.dispose()


def test_register_a_passkey_then_sign_in_with_it(localhost_site: tuple[FastAPI, str], browser: Any) -> None:
    app, url = localhost_site
    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]

    page.goto(f"{url}/ui/login")
    page.locator("#email").fill("admin@passkey.test")
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{url}/ui/account/security")  # an admin must enrol a second factor first
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_selector("li:has-text('passkey')")
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]) == 1
    with app.state.rt.db.reading() as s:
        assert len(list(s.scalars(select(Passkey)))) == 1
    page.goto(f"{url}/ui/")  # no longer held at enrolment
    assert page.url == f"{url}/ui/"

    page.locator("header form[action='/ui/logout'] button").click()
    page.wait_for_url(f"{url}/ui/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(f"{url}/ui/")
    assert "Pat Admin" in page.inner_text("header")

    refused = context.request.post(
        f"{url}/api/v1/session", data={"email": "admin@passkey.test", "password": PASSWORD}
    )
    assert refused.status == 401 and refused.json()["error"]["code"] == "mfa_required"
    context.close()
