"""Backup and restore of a whole service: database rows, stored media (blobs) and the keys beside them.

A backup is one ``.tar.gz``: ``manifest.json`` (format, schema revision, time, rows per table, sha256 of every
member), ``db/<table>.jsonl`` (every row of every table, in foreign-key order, read in chunks), ``blobs/``
(the content-addressed files) and ``keys/`` (the session secret and the audit signing key: TOTP secrets are
encrypted with the first, audit checkpoints signed with the second). It holds personal data and secrets:
keep it like the database itself.

The row format is the database's own columns as JSON (times as ISO 8601), not a PostgreSQL or SQLite dump,
so a backup restores into either: from the embedded SQLite to PostgreSQL is the same command. Restoring needs
an empty database at the same schema revision (``restore`` migrates an empty one first), checks every
member's sha256 before writing anything, and sets PostgreSQL's id sequences past the restored rows.
Written by hand because no maintained tool moves rows between SQLite and PostgreSQL through SQLAlchemy's
metadata; ``pg_dump`` remains the right tool for a PostgreSQL-only deployment's routine backups.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Table, func, insert, select, text

from civicshield import __version__
from civicshield.errors import Conflict, UsageError
from civicshield.service.domain.tables import Base, Organization
from civicshield.service.infra.db.engine import Database
from civicshield.service.settings import ServiceSettings

__all__ = ["BackupSummary", "backup", "restore"]

FORMAT = "civicshield-backup/1"
CHUNK = 2000


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    rows: dict[str, int]
    blobs: int
    revision: str


def _keys(settings: ServiceSettings) -> list[tuple[str, Path]]:
    return [("secret_key", settings.data_dir / "secret_key"), ("audit-signing.key", settings.audit_key_path)]


def _revision(db: Database) -> str:
    with db.engine.connect() as conn:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or "")


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _rows(db: Database, table: Table) -> Iterator[dict[str, Any]]:
    with db.engine.connect() as conn:
        ordered = select(table).order_by(*table.primary_key.columns)
        result = conn.execution_options(yield_per=CHUNK).execute(ordered)
        for row in result.mappings():
            yield {k: _encode(v) for k, v in row.items()}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(settings: ServiceSettings, out: Path) -> BackupSummary:
    """Write the whole service to ``out`` (a ``.tar.gz``)."""
    db = Database.migrated(settings.db_url)
    try:
        revision = _revision(db)
        with tempfile.TemporaryDirectory(prefix="civicshield-backup-") as tmp:
            root = Path(tmp)
            (root / "db").mkdir()
            rows: dict[str, int] = {}
            for table in Base.metadata.sorted_tables:
                n = 0
                with (root / "db" / f"{table.name}.jsonl").open("w", encoding="utf-8") as fh:
                    for row in _rows(db, table):
                        fh.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
                        n += 1
                rows[table.name] = n
            blobs = 0
            if settings.blob_dir.is_dir():
                shutil.copytree(settings.blob_dir, root / "blobs")
                blobs = sum(1 for p in (root / "blobs").rglob("*") if p.is_file())
            (root / "keys").mkdir()
            for name, source in _keys(settings):
                if source.is_file():
                    shutil.copy2(source, root / "keys" / name)
            members = {str(p.relative_to(root)): _sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}
            manifest = {
                "format": FORMAT,
                "civicshield": __version__,
                "revision": revision,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "rows": rows,
                "blobs": blobs,
                "sha256": members,
            }
            (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
            out.parent.mkdir(parents=True, exist_ok=True)
            with tarfile.open(out, "w:gz") as tar:
                tar.add(root / "manifest.json", arcname="manifest.json")
                for name in members:
                    tar.add(root / name, arcname=name)
        return BackupSummary(out, rows, blobs, revision)
    finally:
        db.dispose()


def _safe_extract(archive: Path, into: Path) -> dict[str, Any]:
    """Unpack only regular files under known folders (no links, no paths outside), then check every sha256."""
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            name = Path(member.name)
            if name.is_absolute() or ".." in name.parts or not member.isfile():
                raise UsageError(f"not a CivicShield backup: unexpected member {member.name!r}")
            if name.parts[0] not in {"manifest.json", "db", "blobs", "keys"}:
                raise UsageError(f"not a CivicShield backup: unexpected member {member.name!r}")
        tar.extractall(into, filter="data")
    try:
        manifest = json.loads((into / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise UsageError("not a CivicShield backup: no readable manifest.json") from exc
    if manifest.get("format") != FORMAT:
        raise UsageError(f"not a CivicShield backup of format {FORMAT}")
    for name, digest in manifest["sha256"].items():
        path = into / name
        if not path.is_file() or _sha256(path) != digest:
            raise UsageError(f"the backup is damaged: {name} is missing or altered")
    return dict(manifest)


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for column in table.columns:
        value = out.get(column.name)
        if isinstance(value, str) and isinstance(column.type, DateTime):
            out[column.name] = dt.datetime.fromisoformat(value)
    return out


def restore(settings: ServiceSettings, archive: Path) -> BackupSummary:
    """Restore ``archive`` into the (empty) database and data directory of ``settings``."""
    db = Database.migrated(settings.db_url)
    try:
        with db.reading() as s:
            if s.scalar(select(func.count()).select_from(Organization)):
                raise Conflict("the database is not empty: restore into a new database")
        revision = _revision(db)
        with tempfile.TemporaryDirectory(prefix="civicshield-restore-") as tmp:
            root = Path(tmp)
            manifest = _safe_extract(archive, root)
            if manifest["revision"] != revision:
                raise UsageError(
                    f"the backup is of schema revision {manifest['revision']}, this version is at "
                    f"{revision}: restore with the version that made it, then upgrade"
                )
            with db.engine.begin() as conn:
                for table in Base.metadata.sorted_tables:
                    path = root / "db" / f"{table.name}.jsonl"
                    if not path.is_file():
                        continue
                    batch: list[dict[str, Any]] = []
                    with path.open(encoding="utf-8") as fh:
                        for line in fh:
                            batch.append(_decode(table, json.loads(line)))
                            if len(batch) == CHUNK:
                                conn.execute(insert(table), batch)
                                batch = []
                    if batch:
                        conn.execute(insert(table), batch)
                if conn.dialect.name == "postgresql":
                    _advance_sequences(conn)
            if (root / "blobs").is_dir():
                settings.blob_dir.mkdir(parents=True, exist_ok=True)
                shutil.copytree(root / "blobs", settings.blob_dir, dirs_exist_ok=True)
            for name, target in _keys(settings):
                source = root / "keys" / name
                if source.is_file():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, target)
                    target.chmod(0o600)
        return BackupSummary(archive, dict(manifest["rows"]), int(manifest["blobs"]), revision)
    finally:
        db.dispose()


def _advance_sequences(conn: Any) -> None:
    for table in Base.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not pk[0].autoincrement or pk[0].type.python_type is not int:
            continue
        name, column = table.name, pk[0].name  # from the metadata, not from input
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "  # noqa: S608
                f"COALESCE((SELECT MAX({column}) FROM {name}), 0) + 1, false)"
            )
        )
