"""One organization's data out (export), gone (deletion), and retention of anonymous and personal data
(issue 9, part 5). On SQLite and PostgreSQL, with real files."""

from __future__ import annotations

import datetime as dt
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from civicshield.demo import synth
from civicshield.service.domain import onboarding, store
from civicshield.service.domain.tables import (
    AuditEvent,
    Case,
    Item,
    JoinRequest,
    LoginThrottle,
    Organization,
    User,
    WebSession,
    utcnow,
)
from civicshield.service.infra import lifecycle
from civicshield.service.infra.jobs import run_job

from .conftest import World, auth


def _upload(world: World, who: str, tmp_path: Path, seed: int) -> dict[str, int]:
    path = synth.save_image(synth.poster(f"ORG {seed}", size=(300, 200), seed=seed), tmp_path / f"{seed}.jpg")
    with path.open("rb") as fh:
        r = world.client.post("/api/v1/items", files={"file": (path.name, fh)}, headers=auth(world, who))
    assert r.status_code == 202, r.text
    assert run_job(world.client.app.state.rt, r.json()["job"]["id"]) == "done"  # type: ignore[attr-defined]
    return {"item": int(r.json()["id"]), "size": 0}


def _rows(world: World, model: type, **where: object) -> int:
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        q = select(func.count()).select_from(model)
        for key, value in where.items():
            q = q.where(getattr(model, key) == value)
        return int(s.scalar(q) or 0)


def test_an_organizations_export_holds_its_rows_and_media_and_no_secrets(
    world: World, tmp_path: Path
) -> None:
    mine = _upload(world, "factcheck:analyst", tmp_path, 1)
    _upload(world, "other:analyst", tmp_path, 2)
    world.client.post(
        "/api/v1/cases",
        json={"item_id": mine["item"], "title": "ours", "tlp": "AMBER"},
        headers=auth(world, "factcheck:analyst"),
    )
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    out = tmp_path / "export.tar.gz"
    with rt.db.session() as s:
        counts = lifecycle.export_org(s, world.ids["factcheck"], rt.blobs, out)
    assert counts["items"] == 1 and counts["users"] == 4 and counts["cases"] == 1
    with tarfile.open(out) as tar:
        names = tar.getnames()
        users = [json.loads(x) for x in tar.extractfile("rows/users.jsonl").read().splitlines()]  # type: ignore[union-attr]
        items = [json.loads(x) for x in tar.extractfile("rows/items.jsonl").read().splitlines()]  # type: ignore[union-attr]
    assert {u["email"] for u in users} == {
        f"{r}@factcheck.test" for r in ("viewer", "analyst", "reviewer", "org_admin")
    }
    assert all(u["password_hash"] is None for u in users)
    assert f"media/{items[0]['sha256']}" in names
    assert not any("other" in json.dumps(i) for i in items)


def test_deleting_an_organization_removes_everything_of_it_and_nothing_else(
    world: World, tmp_path: Path
) -> None:
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    _upload(world, "factcheck:analyst", tmp_path, 3)
    theirs = _upload(world, "other:analyst", tmp_path, 4)
    shared = _upload(world, "other:analyst", tmp_path, 3)  # the same file as the fact-checkers'
    world.client.post(
        "/api/v1/cases",
        json={"item_id": theirs["item"], "title": "theirs", "tlp": "AMBER"},
        headers=auth(world, "other:analyst"),
    )
    with rt.db.session() as s:
        operators = store.create_org(s, onboarding.OPERATORS_ORG, "operator")
        onboarding.submit_join_request(
            s,
            org_name="Newcomer",
            kind="ngo",
            website="https://new.example",
            contact_name="N",
            contact_email="n@new.example",
            vouched_by_org_id=world.ids["other"],
        )
        their_item = s.get(Item, theirs["item"])
        shared_item = s.get(Item, shared["item"])
        assert their_item is not None and shared_item is not None
        their_sha, shared_sha = their_item.sha256, shared_item.sha256
        operators_id = operators.id
    with rt.db.session() as s:
        removed = lifecycle.delete_org(
            s, world.ids["other"], rt.blobs, actor="test:operator", operators_org_id=operators_id
        )
    assert removed["organizations"] == 1 and removed["users"] == 4 and removed["items"] == 2
    assert _rows(world, Organization, id=world.ids["other"]) == 0
    assert _rows(world, User, org_id=world.ids["factcheck"]) == 4 and _rows(world, Item) == 1
    assert _rows(world, Case) == 0 and _rows(world, AuditEvent, org_id=world.ids["other"]) == 0
    assert not rt.blobs.exists(their_sha)
    assert rt.blobs.exists(shared_sha)  # the fact-checkers' item is the same file
    with rt.db.reading() as s:
        request = s.scalars(select(JoinRequest)).one()
        assert request.vouched_by_org_id is None
        recorded = s.scalars(select(AuditEvent).where(AuditEvent.org_id == operators_id)).all()
        assert any(e.action == "org.deleted" for e in recorded)
    assert world.client.get("/api/v1/me", headers=auth(world, "other:analyst")).status_code == 401
    assert world.client.get("/api/v1/me", headers=auth(world, "factcheck:analyst")).status_code == 200


def test_retention_removes_old_anonymous_submissions_and_ended_sessions(world: World, tmp_path: Path) -> None:
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    from civicshield.service.submission import submit_bytes

    old_bytes = synth.save_image(synth.poster("OLD TIP", seed=7), tmp_path / "old.jpg").read_bytes()
    new_bytes = synth.save_image(synth.poster("NEW TIP", seed=8), tmp_path / "new.jpg").read_bytes()
    with rt.db.session() as s:
        intake = store.public_intake(s)
    old = submit_bytes(rt, world.client.app.state.celery, intake, old_bytes, "old.jpg")  # type: ignore[attr-defined]
    submit_bytes(rt, world.client.app.state.celery, intake, new_bytes, "new.jpg")  # type: ignore[attr-defined]
    long_ago = utcnow() - dt.timedelta(days=45)
    client = world.client
    signed = client.post(
        "/api/v1/session", json={"email": "viewer@factcheck.test", "password": "correct horse battery"}
    )
    assert signed.status_code == 200
    with rt.db.session() as s:
        s.execute(update(Item).where(Item.id == old.item_id).values(created_at=long_ago))
        s.execute(update(WebSession).values(revoked_at=utcnow() - dt.timedelta(days=120)))
        s.add(LoginThrottle(key="address:203.0.113.9", failures=3, last_failure_at=long_ago))
    with rt.db.session() as s:
        removed = lifecycle.purge(s, rt.blobs, rt.settings.retention, store.PUBLIC_INTAKE_ORG)
    assert removed == {"public_submissions": 1, "sessions": 1, "links": 0, "throttle": 1, "tip_requesters": 0}
    assert not rt.blobs.exists(old.sha256) and _rows(world, Item) == 1


def test_the_console_exports_and_deletes(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civicshield.cli import app as cli

    monkeypatch.setenv("CIVICSHIELD_DATA_DIR", str(world.settings.data_dir))
    monkeypatch.setenv("CIVICSHIELD_DATABASE_URL", world.settings.db_url)
    run = CliRunner()
    out = tmp_path / "other.tar.gz"
    assert run.invoke(cli, ["admin", "org", "export", str(world.ids["other"]), str(out)]).exit_code == 0
    assert out.stat().st_size > 0
    refused = run.invoke(cli, ["admin", "org", "delete", str(world.ids["other"])])
    assert refused.exit_code == 2 and "--yes" in refused.output
    with world.client.app.state.rt.db.session() as s:  # type: ignore[attr-defined]
        store.create_org(s, onboarding.OPERATORS_ORG, "operator")
    gone = run.invoke(cli, ["admin", "org", "delete", str(world.ids["other"]), "--yes"])
    assert gone.exit_code == 0, gone.output
    assert run.invoke(cli, ["admin", "purge"]).exit_code == 0
