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

from civicshield.service.app import create_app
from civicshield.service.domain import store
from civicshield.service.domain.tables import Passkey
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


def _authenticator(context: Any, page: Any) -> Any:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
    }
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return cdp


def _add_passkey(page: Any) -> None:
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_selector("li:has-text('passkey')")


def test_a_new_operator_brings_in_an_organization_through_the_pages(
    localhost_site: tuple[FastAPI, str], browser: Any
) -> None:
    """Issue 9's path, in Chromium: the set-up link makes the first operator (who enrols a passkey), the
    operator creates an organization and invites its admin, who joins, enrols a passkey and signs in."""
    from civicshield.service.domain import onboarding

    app, url = localhost_site
    with app.state.rt.db.session() as s:
        setup = onboarding.setup_link(s, url)
    assert setup is not None

    ops_context = browser.new_context()
    ops = ops_context.new_page()
    _authenticator(ops_context, ops)
    ops.goto(setup)
    ops.locator("#email").fill("ops@coalition.test")
    ops.locator("#name").fill("Olga Operator")
    ops.locator("#password").fill("violet harbour lanterns")
    ops.get_by_role("button", name="Create account").click()
    ops.wait_for_url(f"{url}/ui/account/security")  # an operator enrols a second factor first
    _add_passkey(ops)
    ops.goto(f"{url}/ui/coalition")
    ops.get_by_text("Add an organization").click()
    ops.locator("#o-name").fill("Kiesraad")
    ops.locator("#o-kind").select_option("election_authority")
    ops.locator("#o-email").fill("chair@kiesraad.test")
    ops.get_by_role("button", name="Create and invite").click()
    link = ops.locator("#new-link").input_value()  # no mail server in this test: the link is shown
    assert "/ui/invitations/" in link and "Kiesraad" in ops.inner_text("main")
    ops_context.close()

    chair_context = browser.new_context()
    chair = chair_context.new_page()
    _authenticator(chair_context, chair)
    chair.goto(link)
    assert "Kiesraad" in chair.inner_text("main")
    chair.locator("#name").fill("Chair Person")
    chair.locator("#password").fill("amber meadow telescope")
    chair.get_by_role("button", name="Join").click()
    chair.wait_for_url(f"{url}/ui/account/security")  # an org admin enrols too
    _add_passkey(chair)
    chair.locator("header form[action='/ui/logout'] button").click()
    chair.wait_for_url(f"{url}/ui/login")
    chair.get_by_role("button", name="Sign in with a passkey").click()
    chair.wait_for_url(f"{url}/ui/")
    assert "Chair Person" in chair.inner_text("header")
    chair.goto(f"{url}/ui/admin")
    assert "Kiesraad" in chair.inner_text("h1")
    chair_context.close()
