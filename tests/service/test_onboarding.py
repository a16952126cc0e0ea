"""A coalition onboards itself: the first operator, organizations, invitations by e-mail, resets, suspensions,
join requests, the operator's console (issue 9, part 3). Mail goes through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from civicshield.service.app import create_app
from civicshield.service.domain import onboarding
from civicshield.service.domain.tables import AuditEvent, User
from civicshield.service.settings import MailSettings, ServiceSettings

from .conftest import Mailbox, _seed, auth, core_analysis

PASSWORD = "blue kettle under moonlight"


@dataclass
class Coalition:
    app: FastAPI
    client: TestClient
    mailbox: Mailbox
    settings: ServiceSettings


@pytest.fixture
def coalition(database_url: str, tmp_path: Path, mailbox: Mailbox) -> Iterator[Coalition]:
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="onboarding",
        base_url="http://testserver",
        analysis=core_analysis(tmp_path / "data"),
        mail=MailSettings(
            host=mailbox.host, port=mailbox.port, sender="CivicShield <noreply@coalition.test>"
        ),
        enforce_mfa=False,  # tests/service/test_mfa.py tests the enforcement
    )
    app = create_app(settings)
    yield Coalition(app, TestClient(app), mailbox, settings)
    app.state.rt.db.dispose()


def _token(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _operator(c: Coalition) -> dict[str, str]:
    """The first operator, made with the set-up link; returns headers of a signed-in API session."""
    with c.app.state.rt.db.session() as s:
        link = onboarding.setup_link(s, c.settings.base_url)
    assert link is not None and link.startswith("http://testserver/ui/setup/")
    made = c.client.post(
        f"/api/v1/setup/{_token(link)}",
        json={"email": "ops@coalition.test", "name": "Ops", "password": PASSWORD},
    )
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "platform_admin"
    again = c.client.post(
        f"/api/v1/setup/{_token(link)}", json={"email": "x@coalition.test", "name": "X", "password": PASSWORD}
    )
    assert again.status_code == 404  # once only
    with c.app.state.rt.db.session() as s:
        assert onboarding.setup_link(s, c.settings.base_url) is None  # an operator exists now
    session = c.client.post("/api/v1/session", json={"email": "ops@coalition.test", "password": PASSWORD})
    return {"X-CSRF-Token": session.json()["csrf_token"]}


def test_operator_org_invitation_and_first_sign_in_through_the_pages(coalition: Coalition) -> None:
    c = coalition
    ops = _operator(c)
    org = c.client.post(
        "/api/v1/admin/organizations", json={"name": "Kiesraad", "kind": "election_authority"}, headers=ops
    )
    assert org.status_code == 201, org.text
    sent = c.client.post(
        "/api/v1/invitations",
        json={"email": "Admin@Kiesraad.test", "role": "org_admin", "org_id": org.json()["id"]},
        headers=ops,
    )
    assert sent.status_code == 202
    link = c.mailbox.link("admin@kiesraad.test")
    assert link.startswith("http://testserver/ui/invitations/")

    person = TestClient(c.app)
    page = person.get(link.replace("http://testserver", ""))
    assert page.status_code == 200 and "Kiesraad" in page.text
    weak = person.post(
        link.replace("http://testserver", ""),
        data={"csrf_token": _csrf(page.text), "name": "Anna", "password": "password123"},
    )
    assert weak.status_code == 400 and "stronger password" in weak.text
    joined = person.post(
        link.replace("http://testserver", ""),
        data={"csrf_token": _csrf(page.text), "name": "Anna", "password": PASSWORD},
    )
    assert joined.status_code == 200 and joined.url.path == "/ui/", joined.text[:300]
    assert person.get("/api/v1/me").json()["role"] == "org_admin"
    assert person.get(link.replace("http://testserver", "")).status_code == 404  # used

    with c.app.state.rt.db.reading() as s:
        actions = set(s.scalars(select(AuditEvent.action)))
    assert {"operator.created", "org.created", "user.invited", "invitation.accepted"} <= actions


def test_an_invitation_does_not_reveal_accounts_of_other_organizations(
    coalition: Coalition,
) -> None:
    """Seen in the red-team run: adding a member answered differently for another organization's address."""
    c = coalition
    world = _seed(c.settings, c.app)
    admin = auth(world, "factcheck:org_admin")
    new = c.client.post(
        "/api/v1/invitations", json={"email": "fresh@person.test", "role": "viewer"}, headers=admin
    )
    taken = c.client.post(
        "/api/v1/invitations", json={"email": "viewer@other.test", "role": "viewer"}, headers=admin
    )
    assert (new.status_code, new.json()) == (taken.status_code, taken.json())
    assert "/ui/invitations/" in c.mailbox.link("fresh@person.test")
    notice = c.mailbox.to("viewer@other.test")
    assert len(notice) == 1 and "already has an account" in notice[0].get_content()
    assert not re.search(r"https?://", notice[0].get_content())
    higher = c.client.post(
        "/api/v1/invitations", json={"email": "boss@person.test", "role": "platform_admin"}, headers=admin
    )
    assert higher.status_code == 403


def test_password_reset_by_mail_ends_every_session(coalition: Coalition) -> None:
    c = coalition
    world = _seed(c.settings, c.app)
    elsewhere = TestClient(c.app)
    assert (
        elsewhere.post(
            "/api/v1/session", json={"email": "analyst@factcheck.test", "password": "correct horse battery"}
        ).status_code
        == 200
    )
    for email in ("analyst@factcheck.test", "nobody@nowhere.test"):
        r = c.client.post("/api/v1/password-resets", json={"email": email})
        assert r.status_code == 202
    assert c.mailbox.to("nobody@nowhere.test") == []
    token = _token(c.mailbox.link("analyst@factcheck.test"))
    assert c.client.post(f"/api/v1/password-resets/{token}", json={"password": PASSWORD}).status_code == 204
    assert elsewhere.get("/api/v1/me").status_code == 401
    assert c.client.post(f"/api/v1/password-resets/{token}", json={"password": PASSWORD}).status_code == 404
    fresh = TestClient(c.app).post(
        "/api/v1/session", json={"email": "analyst@factcheck.test", "password": PASSWORD}
    )
    assert fresh.status_code == 200
    assert world.keys  # the seeded keys are untouched by a reset


def test_suspending_an_organization_and_disabling_a_member(coalition: Coalition) -> None:
    c = coalition
    world = _seed(c.settings, c.app)
    ops = _operator(c)
    key = auth(world, "other:analyst")
    assert c.client.get("/api/v1/me", headers=key).status_code == 200
    other = world.ids["other"]
    assert c.client.post(f"/api/v1/admin/organizations/{other}/suspend", headers=ops).status_code == 204
    assert c.client.get("/api/v1/me", headers=key).status_code == 401
    login = TestClient(c.app).post(
        "/api/v1/session", json={"email": "analyst@other.test", "password": "correct horse battery"}
    )
    assert login.status_code == 401
    assert c.client.post(f"/api/v1/admin/organizations/{other}/resume", headers=ops).status_code == 204
    assert c.client.get("/api/v1/me", headers=key).status_code == 200

    admin = auth(world, "factcheck:org_admin")
    target = world.ids["factcheck:analyst:user"]
    assert c.client.post(f"/api/v1/members/{target}/disable", headers=admin).status_code == 204
    assert c.client.get("/api/v1/me", headers=auth(world, "factcheck:analyst")).status_code == 401
    outsider = c.client.post(f"/api/v1/members/{target}/enable", headers=auth(world, "other:org_admin"))
    assert outsider.status_code == 404
    assert c.client.post(f"/api/v1/members/{target}/enable", headers=admin).status_code == 204
    assert c.client.get("/api/v1/me", headers=auth(world, "factcheck:analyst")).status_code == 200
    assert c.client.get("/api/v1/admin/organizations", headers=admin).status_code == 403


def test_a_join_request_vetted_by_an_operator(coalition: Coalition) -> None:
    c = coalition
    world = _seed(c.settings, c.app)
    ops = _operator(c)
    asked = TestClient(c.app).post(
        "/api/v1/join-requests",
        json={
            "org_name": "Freedom Press Desk",
            "kind": "newsroom",
            "website": "https://desk.example",
            "contact_name": "Lea",
            "contact_email": "lea@desk.example",
            "vouched_by_org_id": world.ids["factcheck"],
            "note": "We cover the regional elections.",
        },
    )
    assert asked.status_code == 202, asked.text
    pending = c.client.get("/api/v1/admin/join-requests", headers=ops).json()
    assert pending[0]["state"] == "pending" and pending[0]["vouched_by_org_id"] == world.ids["factcheck"]
    decided = c.client.post(f"/api/v1/admin/join-requests/{asked.json()['id']}/approve", headers=ops)
    assert decided.status_code == 200 and decided.json()["state"] == "approved"
    assert "/ui/invitations/" in c.mailbox.link("lea@desk.example")
    token = _token(c.mailbox.link("lea@desk.example"))
    joined = TestClient(c.app).post(
        f"/api/v1/invitations/{token}/accept", json={"name": "Lea", "password": PASSWORD}
    )
    assert joined.status_code == 201 and joined.json()["role"] == "org_admin"
    again = c.client.post(f"/api/v1/admin/join-requests/{asked.json()['id']}/reject", headers=ops)
    assert again.status_code == 409


def test_the_operators_console(coalition: Coalition, monkeypatch: pytest.MonkeyPatch) -> None:
    from civicshield.cli import app as cli

    c = coalition
    for name, value in {
        "CIVICSHIELD_DATA_DIR": str(c.settings.data_dir),
        "CIVICSHIELD_DATABASE_URL": c.settings.db_url,
        "CIVICSHIELD_BASE_URL": "http://testserver",
    }.items():
        monkeypatch.setenv(name, value)
    run = CliRunner()
    link = run.invoke(cli, ["admin", "setup-link"])
    assert link.exit_code == 0 and "/ui/setup/" in link.output
    made = run.invoke(cli, ["admin", "org", "create", "Partij X", "--kind", "party"])
    assert made.exit_code == 0, made.output
    org_id = int(re.search(r"organization (\d+)", made.output)[1])  # type: ignore[index]
    listed = run.invoke(cli, ["admin", "org", "list"])
    assert "Partij X" in listed.output
    invited = run.invoke(
        cli, ["admin", "user", "invite", "chair@partijx.test", "--org", str(org_id), "--role", "org_admin"]
    )
    assert invited.exit_code == 0, invited.output
    token = _token(invited.output.strip().split()[-1])
    accepted = c.client.post(
        f"/api/v1/invitations/{token}/accept", json={"name": "Chair", "password": PASSWORD}
    )
    assert accepted.status_code == 201
    key = c.client.post("/api/v1/session", json={"email": "chair@partijx.test", "password": PASSWORD}).json()[
        "csrf_token"
    ]
    made_key = c.client.post(
        "/api/v1/api-keys", json={"name": "ci", "scopes": ["read"]}, headers={"X-CSRF-Token": key}
    )
    prefix = made_key.json()["prefix"]
    rotated = run.invoke(cli, ["admin", "key", "rotate", prefix])
    assert rotated.exit_code == 0, rotated.output
    new_token = rotated.output.strip().split()[-1]
    assert (
        c.client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {made_key.json()['token']}"}
        ).status_code
        == 401
    )
    c.client.cookies.clear()
    assert c.client.get("/api/v1/me", headers={"Authorization": f"Bearer {new_token}"}).status_code == 200
    disabled = run.invoke(cli, ["admin", "user", "disable", "chair@partijx.test"])
    assert disabled.exit_code == 0
    assert c.client.get("/api/v1/me", headers={"Authorization": f"Bearer {new_token}"}).status_code == 401
    reset = run.invoke(cli, ["admin", "user", "reset", "nobody@partijx.test"])
    assert reset.exit_code == 2 and "no account" in reset.output
    with c.app.state.rt.db.reading() as s:
        chair = s.scalar(select(User).where(User.email == "chair@partijx.test"))
        assert chair is not None and not chair.active


def test_without_smtp_invitations_say_how_to_enable_them(database_url: str, tmp_path: Path) -> None:
    settings = ServiceSettings(
        data_dir=tmp_path / "d", database_url=database_url, secret_key="k", analysis=core_analysis(tmp_path)
    )
    app = create_app(settings)
    try:
        world = _seed(settings, app)
        r = TestClient(app).post(
            "/api/v1/invitations",
            json={"email": "a@b.test", "role": "viewer"},
            headers=auth(world, "factcheck:org_admin"),
        )
        assert r.status_code == 400 and "CIVICSHIELD_SMTP_HOST" in r.json()["error"]["message"]
    finally:
        app.state.rt.db.dispose()


def test_admins_manage_members_and_keys_from_the_pages(coalition: Coalition) -> None:
    c = coalition
    world = _seed(c.settings, c.app)
    page_client = TestClient(c.app)
    page = page_client.get("/ui/login").text
    login = page_client.post(
        "/ui/login",
        data={
            "email": "org_admin@factcheck.test",
            "password": "correct horse battery",
            "csrf_token": _csrf(page),
        },
    )
    csrf = _csrf(login.text)
    target = world.ids["factcheck:analyst:user"]
    page_client.post(f"/ui/admin/members/{target}/disable", data={"csrf_token": csrf})
    assert c.client.get("/api/v1/me", headers=auth(world, "factcheck:analyst")).status_code == 401
    page_client.post(f"/ui/admin/members/{target}/enable", data={"csrf_token": csrf})
    assert c.client.get("/api/v1/me", headers=auth(world, "factcheck:analyst")).status_code == 200
    page_client.post(f"/ui/admin/members/{target}/reset", data={"csrf_token": csrf})
    assert "/ui/reset/" in c.mailbox.link("analyst@factcheck.test")
    outsider = world.ids["other:analyst:user"]
    refused = page_client.post(f"/ui/admin/members/{outsider}/disable", data={"csrf_token": csrf})
    assert "not found" in refused.text.lower() or refused.status_code == 404
    old = world.keys["factcheck:org_admin"]
    prefix = old.split("_")[1]
    rotated = page_client.post(f"/ui/admin/keys/{prefix}/rotate", data={"csrf_token": csrf})
    new = rotated.text.split('id="new-key" class="mono" value="', 1)[1].split('"', 1)[0]
    assert c.client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    c.client.cookies.clear()
    assert c.client.get("/api/v1/me", headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_forgot_password_page_mails_a_link_and_says_the_same_for_anyone(coalition: Coalition) -> None:
    c = coalition
    _seed(c.settings, c.app)
    person = TestClient(c.app)
    texts = []
    for email in ("reviewer@factcheck.test", "nobody@nowhere.test"):
        page = person.get("/ui/forgot").text
        texts.append(person.post("/ui/forgot", data={"email": email, "csrf_token": _csrf(page)}).text)
    assert texts[0] == texts[1] and "is on its way" in texts[0]
    link = c.mailbox.link("reviewer@factcheck.test").replace("http://testserver", "")
    form = person.get(link).text
    done = person.post(link, data={"password": PASSWORD, "csrf_token": _csrf(form)})
    assert done.url.path == "/ui/login"
    assert (
        TestClient(c.app)
        .post("/api/v1/session", json={"email": "reviewer@factcheck.test", "password": PASSWORD})
        .status_code
        == 200
    )
