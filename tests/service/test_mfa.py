"""Accounts that resist attackers (issue 9, part 4): TOTP second factor with recovery codes, required for
admins and operators, and sign-in throttling per account and per address without user enumeration."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from civicshield.service.app import create_app
from civicshield.service.domain.tables import LoginThrottle, utcnow
from civicshield.service.domain.throttle import ThrottlePolicy
from civicshield.service.settings import ServiceSettings

from .conftest import World, _seed, core_analysis

PASSWORD = "correct horse battery"


@pytest.fixture
def strict(database_url: str, tmp_path: Path) -> Iterator[World]:
    """The service as deployed: second factor enforced for admins (the default)."""
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="mfa-test",
        analysis=core_analysis(tmp_path / "data"),
        throttle=ThrottlePolicy(account_free=3, address_free=8, max_wait_s=60),
    )
    app = create_app(settings)
    yield _seed(settings, app)
    app.state.rt.db.dispose()


def _session(
    world: World, email: str, code: str = "", address_client: TestClient | None = None
) -> TestClient:
    client = address_client or TestClient(world.client.app)
    r = client.post("/api/v1/session", json={"email": email, "password": PASSWORD, "code": code})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return client


def _next_code(secret: str) -> str:
    """The code of the next time step (a code is accepted once, and one step of drift is allowed)."""
    totp = pyotp.TOTP(secret)
    return totp.at(int(time.time()) + totp.interval)


def _enrol(client: TestClient) -> tuple[str, list[str]]:
    begun = client.post("/api/v1/me/totp")
    assert begun.status_code == 201, begun.text
    secret = begun.json()["secret"]
    assert begun.json()["otpauth_uri"].startswith("otpauth://totp/CivicShield:")
    wrong = client.post("/api/v1/me/totp/confirm", json={"code": "000000"})
    assert wrong.status_code == 400
    done = client.post("/api/v1/me/totp/confirm", json={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, done.text
    codes = done.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


def test_an_admin_must_enrol_before_doing_anything_else(strict: World) -> None:
    admin = _session(strict, "org_admin@factcheck.test")
    blocked = admin.post("/api/v1/api-keys", json={"name": "k"})
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "mfa_enrolment_required"
    assert admin.get("/api/v1/me").status_code == 200  # may see who they are, to enrol
    target = strict.ids["factcheck:analyst:user"]
    assert admin.post(f"/api/v1/members/{target}/disable").status_code == 403  # not under /me
    secret, codes = _enrol(admin)
    assert admin.post("/api/v1/api-keys", json={"name": "k"}).status_code == 201

    anonymous = TestClient(strict.client.app)
    needs = anonymous.post(
        "/api/v1/session", json={"email": "org_admin@factcheck.test", "password": PASSWORD}
    )
    assert needs.status_code == 401 and needs.json()["error"]["code"] == "mfa_required"
    code = _next_code(secret)
    _session(strict, "org_admin@factcheck.test", code)
    replay = anonymous.post(
        "/api/v1/session", json={"email": "org_admin@factcheck.test", "password": PASSWORD, "code": code}
    )
    assert replay.status_code == 401  # a code works once
    _session(strict, "org_admin@factcheck.test", codes[0])  # a recovery code instead
    again = anonymous.post(
        "/api/v1/session", json={"email": "org_admin@factcheck.test", "password": PASSWORD, "code": codes[0]}
    )
    assert again.status_code == 401  # used up
    keep = admin.post("/api/v1/me/totp/disable", json={"password": PASSWORD, "code": codes[1]})
    assert keep.status_code == 409  # an admin cannot turn it off


def test_members_choose_unless_their_organization_requires_it(strict: World) -> None:
    analyst = _session(strict, "analyst@factcheck.test")
    assert analyst.get("/api/v1/cases").status_code == 200  # not required for analysts by default
    _secret, codes = _enrol(analyst)
    off = analyst.post("/api/v1/me/totp/disable", json={"password": PASSWORD, "code": codes[0]})
    assert off.status_code == 204
    with strict.client.app.state.rt.db.session() as s:  # type: ignore[attr-defined]
        from civicshield.service.domain.tables import Organization

        s.execute(update(Organization).values(mfa_required=True))
    viewer = _session(strict, "viewer@factcheck.test")
    assert viewer.get("/api/v1/cases").json()["error"]["code"] == "mfa_enrolment_required"


def test_the_pages_lead_an_admin_through_enrolment(strict: World) -> None:
    client = TestClient(strict.client.app)
    page = client.get("/ui/login").text
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = client.post(
        "/ui/login", data={"email": "org_admin@other.test", "password": PASSWORD, "csrf_token": csrf}
    )
    assert r.url.path == "/ui/account/security" and "requires a second factor" in r.text
    csrf = r.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    begun = client.post("/ui/account/security/totp", data={"csrf_token": csrf})
    secret = begun.text.split('id="totp-secret" class="mono">', 1)[1].split("<", 1)[0]
    done = client.post(
        "/ui/account/security/totp/confirm", data={"csrf_token": csrf, "code": pyotp.TOTP(secret).now()}
    )
    assert "Recovery codes" in done.text
    assert client.get("/ui/admin").status_code == 200
    client.post("/ui/logout", data={"csrf_token": csrf})
    fresh = TestClient(strict.client.app)
    page = fresh.get("/ui/login").text
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    ask = fresh.post(
        "/ui/login", data={"email": "org_admin@other.test", "password": PASSWORD, "csrf_token": csrf}
    )
    assert ask.status_code == 401 and 'name="code"' in ask.text
    ok = fresh.post(
        "/ui/login",
        data={
            "email": "org_admin@other.test",
            "password": PASSWORD,
            "code": _next_code(secret),
            "csrf_token": csrf,
        },
    )
    assert ok.status_code == 200 and ok.url.path == "/ui/"


def test_failed_sign_ins_back_off_per_account_without_telling_which_exist(strict: World) -> None:
    client = TestClient(strict.client.app)
    codes: dict[str, list[int]] = {}
    for email in ("nobody@nowhere.test", "analyst@factcheck.test"):  # the real account last: its first
        # wait is one second, and the right password must come within it even on a loaded machine
        codes[email] = [
            client.post("/api/v1/session", json={"email": email, "password": "not the password!"}).status_code
            for _ in range(5)
        ]
    assert codes["analyst@factcheck.test"] == codes["nobody@nowhere.test"] == [401, 401, 401, 401, 429]
    locked = client.post("/api/v1/session", json={"email": "analyst@factcheck.test", "password": PASSWORD})
    assert locked.status_code == 429 and locked.json()["error"]["detail"]["retry_after_s"] >= 1
    with strict.client.app.state.rt.db.session() as s:  # type: ignore[attr-defined]
        s.execute(update(LoginThrottle).values(blocked_until=utcnow()))  # the wait is over
    assert (
        client.post(
            "/api/v1/session", json={"email": "analyst@factcheck.test", "password": PASSWORD}
        ).status_code
        == 200
    )


def test_one_address_guessing_many_accounts_is_slowed(strict: World) -> None:
    client = TestClient(strict.client.app)
    statuses = [
        client.post(
            "/api/v1/session", json={"email": f"guess{n}@x.test", "password": "not the password!"}
        ).status_code
        for n in range(10)
    ]
    assert statuses[:8] == [401] * 8 and 429 in statuses[8:]


def test_an_organization_requires_a_second_factor_of_everyone(strict: World) -> None:
    admin = _session(strict, "org_admin@other.test")
    _enrol(admin)
    assert admin.post("/api/v1/organization/mfa-policy", json={"required": True}).status_code == 204
    viewer = _session(strict, "viewer@other.test")
    assert viewer.get("/api/v1/cases").json()["error"]["code"] == "mfa_enrolment_required"
    analyst_here = _session(strict, "analyst@factcheck.test")
    assert analyst_here.get("/api/v1/cases").status_code == 200  # another organization's policy
    refused = analyst_here.post("/api/v1/organization/mfa-policy", json={"required": True})
    assert refused.status_code == 403


def test_the_account_page_lists_sessions_and_ends_one(strict: World) -> None:
    here = TestClient(strict.client.app)
    page = here.get("/ui/login").text
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    here.post("/ui/login", data={"email": "analyst@factcheck.test", "password": PASSWORD, "csrf_token": csrf})
    there = _session(strict, "analyst@factcheck.test")
    listed = here.get("/ui/account/security").text
    assert "this session" in listed and "Sign out there" in listed
    other_id = next(s["id"] for s in there.get("/api/v1/sessions").json() if s["current"])
    csrf = listed.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    here.post(f"/ui/account/sessions/{other_id}/end", data={"csrf_token": csrf})
    assert there.get("/api/v1/me").status_code == 401
