"""Backup and restore: round trips on SQLite and on PostgreSQL, and from SQLite to PostgreSQL (issue 9)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from civicshield.demo import synth
from civicshield.service.app import create_app
from civicshield.service.domain import audit
from civicshield.service.domain.tables import Base
from civicshield.service.infra.backup import backup, restore
from civicshield.service.infra.db.engine import Database
from civicshield.service.infra.jobs import run_job
from civicshield.service.settings import ServiceSettings

from .conftest import World, _fresh_pg_database, auth, core_analysis, drop_pg_database


def _counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.reading() as s:
            return {
                t.name: int(s.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables
            }
    finally:
        db.dispose()


def _fill(world: World, tmp_path: Path) -> int:
    """An analyzed item (a blob), a case with a comment (audit events), a bank entry."""
    c, analyst = world.client, auth(world, "factcheck:analyst")
    path = synth.save_image(synth.poster("BACKED UP", size=(320, 240), seed=6), tmp_path / "b.jpg")
    with path.open("rb") as fh:
        item = c.post("/api/v1/items", files={"file": ("b.jpg", fh)}, headers=analyst).json()
    assert run_job(c.app.state.rt, item["job"]["id"]) == "done"  # type: ignore[attr-defined]
    case = c.post(
        "/api/v1/cases", json={"item_id": item["id"], "title": "kept", "tlp": "AMBER"}, headers=analyst
    )
    reviewer = auth(world, "factcheck:reviewer")
    c.post(f"/api/v1/cases/{case.json()['id']}/comments", json={"body": "survives"}, headers=reviewer)
    assert c.post("/api/v1/audit/checkpoints", headers=auth(world, "factcheck:org_admin")).status_code == 201
    return int(item["id"])


def _restored_app(url: str, data_dir: Path, archive: Path, source: World) -> TestClient:
    settings = ServiceSettings(
        data_dir=data_dir,
        database_url=url,
        secret_key=source.settings.secret_key,
        analysis=core_analysis(data_dir),
        enforce_mfa=False,
    )
    done = restore(settings, archive)
    assert done.blobs >= 1
    return TestClient(create_app(settings))


@pytest.mark.parametrize("target", ["same", "postgresql"])
def test_a_restored_service_is_the_same_service(world: World, tmp_path: Path, target: str) -> None:
    item_id = _fill(world, tmp_path)
    archive = tmp_path / "backup.tar.gz"
    summary = backup(world.settings, archive)
    assert summary.rows["items"] == 1 and summary.rows["audit_events"] > 0
    if target == "same" and world.settings.db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'restored.db'}"
    else:
        url = _fresh_pg_database()
    try:
        client = _restored_app(url, tmp_path / "restored", archive, world)
        assert _counts(url) == _counts(world.settings.db_url)
        key = auth(world, "factcheck:analyst")  # API keys survive (their hashes were restored)
        report = client.get(f"/api/v1/items/{item_id}", headers=key)
        assert report.status_code == 200, report.text
        preview = client.get(f"/api/v1/items/{item_id}/file", headers=key)
        assert preview.status_code in (200, 404)  # when the API serves files, the blob is back
        login = client.post(
            "/api/v1/session", json={"email": "reviewer@factcheck.test", "password": "correct horse battery"}
        )
        assert login.status_code == 200
        verified = client.get("/api/v1/audit/verify", headers=auth(world, "factcheck:org_admin")).json()
        assert verified["intact"] and verified["checkpoints"] >= 1  # same signing key, same chain
        new_case = client.post(
            "/api/v1/cases", json={"item_id": item_id, "title": "after", "tlp": "AMBER"}, headers=key
        )
        assert new_case.status_code == 201  # ids continue after the restored rows
        client.app.state.rt.db.dispose()  # type: ignore[attr-defined]
        db = Database(url)
        try:
            with db.reading() as s:
                assert audit.verify_chain(s, world.ids["factcheck"]) is None
        finally:
            db.dispose()
    finally:
        if url.startswith("postgresql"):
            drop_pg_database(url)


def test_restore_refuses_a_damaged_or_foreign_archive_and_a_full_database(
    world: World, tmp_path: Path
) -> None:
    from civicshield.errors import Conflict, UsageError

    _fill(world, tmp_path)
    archive = tmp_path / "backup.tar.gz"
    backup(world.settings, archive)
    with pytest.raises(Conflict):
        restore(world.settings, archive)  # not empty
    empty = ServiceSettings(
        data_dir=tmp_path / "e", database_url=f"sqlite:///{tmp_path / 'e.db'}", secret_key="k"
    )
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "db/comments.jsonl":
                data = data.replace(b"survives", b"rewrote!")
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(UsageError, match="damaged"):
        restore(empty, damaged)
    hostile = tmp_path / "hostile.tar.gz"
    with tarfile.open(hostile, "w:gz") as dst:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        dst.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(UsageError, match="not a CivicShield backup"):
        restore(empty, hostile)
    assert not (tmp_path / "escape.txt").exists()


def test_backup_and_restore_from_the_console(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civicshield.cli import app as cli

    _fill(world, tmp_path)
    archive = tmp_path / "cli.tar.gz"
    monkeypatch.setenv("CIVICSHIELD_DATA_DIR", str(world.settings.data_dir))
    monkeypatch.setenv("CIVICSHIELD_DATABASE_URL", world.settings.db_url)
    made = CliRunner().invoke(cli, ["admin", "backup", str(archive)])
    assert made.exit_code == 0, made.output
    monkeypatch.setenv("CIVICSHIELD_DATA_DIR", str(tmp_path / "again"))
    monkeypatch.setenv("CIVICSHIELD_DATABASE_URL", f"sqlite:///{tmp_path / 'again.db'}")
    back = CliRunner().invoke(cli, ["admin", "restore", str(archive)])
    assert back.exit_code == 0, back.output
    assert _counts(f"sqlite:///{tmp_path / 'again.db'}") == _counts(world.settings.db_url)
