"""What the service keeps, for how long, and how one organization's data leaves: export, deletion, retention.

* ``export_org`` writes every row that belongs to one organization (its own rows, and the rows hanging off
  them: comments, bank entries, sessions...) as JSON lines with the media of its items, secrets left out
  (password and key hashes, TOTP secrets, webhook secrets, link tokens).
* ``delete_org`` removes the same rows and the media no other item uses; references to them from other
  organizations' rows are cleared (e.g. a join request it vouched for). The deletion is recorded in the
  operators' audit log, since the organization's own log goes with it.
* ``purge`` applies the retention settings: anonymous submissions (the public check's "send it to the
  fact-checkers") that no case took up, ended sessions with their addresses, old sign-in failure counts and
  used or expired links.

Which rows belong to an organization is read from the schema (``org_id`` columns and foreign keys), so a
new table is covered without a list to keep in step.
"""

from __future__ import annotations

import datetime as dt
import json
import tarfile
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from civicshield.errors import Conflict, NotFound
from civicshield.service.domain import audit, tips
from civicshield.service.domain.tables import (
    AccountToken,
    Base,
    Case,
    Item,
    Job,
    LoginThrottle,
    Organization,
    WebSession,
    utcnow,
)
from civicshield.service.infra.blobs import BlobStore
from civicshield.service.settings import RetentionPolicy

__all__ = ["delete_org", "export_org", "purge"]

SECRET_COLUMNS = {
    ("users", "password_hash"),
    ("users", "totp_secret"),
    ("api_keys", "key_hash"),
    ("webhooks", "secret"),
    ("account_tokens", "token_hash"),
    ("recovery_codes", "code_hash"),
    ("web_sessions", "token_hash"),
}


def _scope(s: Session, org_id: int) -> dict[str, set[Any]]:
    """Primary keys of every row that belongs to ``org_id``, by table."""
    rows: dict[str, set[Any]] = defaultdict(set)
    rows["organizations"].add(org_id)
    for table in Base.metadata.sorted_tables:
        if table.name == "organizations":
            continue
        pk = next(iter(table.primary_key.columns))
        if "org_id" in table.c:
            rows[table.name] |= set(s.scalars(select(pk).where(table.c.org_id == org_id)))
            continue
        for fk in table.foreign_keys:
            parents = rows.get(fk.column.table.name)
            if parents:
                rows[table.name] |= set(s.scalars(select(pk).where(fk.parent.in_(parents))))
    return rows


def _media_of(s: Session, item_ids: set[Any]) -> set[str]:
    """The blobs of these items: their files and the artefacts (heatmaps, crops) of their analyses."""
    if not item_ids:
        return set()
    shas = {sha for sha in s.scalars(select(Item.sha256).where(Item.id.in_(item_ids))) if sha}
    for report in s.scalars(select(Job.report).where(Job.item_id.in_(item_ids))):
        for signal in (report or {}).get("signals", []):
            shas |= {str(a["blob"]) for a in signal.get("artefacts", []) if a.get("blob")}
    return shas


def _still_used(s: Session, shas: set[str]) -> set[str]:
    """Of ``shas``, those another item still is (artefacts are not shared between items' analyses)."""
    return set(s.scalars(select(Item.sha256).where(Item.sha256.in_(shas)))) if shas else set()


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value


def export_org(s: Session, org_id: int, blobs: BlobStore, out: Path) -> dict[str, int]:
    """One organization's data as a ``.tar.gz`` of JSON lines and media; returns rows per table."""
    if s.get(Organization, org_id) is None:
        raise NotFound("no such organization")
    scope = _scope(s, org_id)
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="civicshield-export-") as tmp:
        root = Path(tmp)
        (root / "rows").mkdir()
        for table in Base.metadata.sorted_tables:
            ids = scope.get(table.name)
            if not ids:
                continue
            pk = next(iter(table.primary_key.columns))
            with (root / "rows" / f"{table.name}.jsonl").open("w", encoding="utf-8") as fh:
                for row in s.execute(select(table).where(pk.in_(ids)).order_by(pk)).mappings():
                    clean = {
                        k: (None if (table.name, k) in SECRET_COLUMNS else _encode(v)) for k, v in row.items()
                    }
                    fh.write(json.dumps(clean, ensure_ascii=False, default=str) + "\n")
            counts[table.name] = len(ids)
        (root / "media").mkdir()
        for sha in s.scalars(select(Item.sha256).where(Item.id.in_(scope.get("items", set())))):
            if sha and blobs.exists(sha):
                (root / "media" / sha).write_bytes(blobs.get(sha))
        (root / "manifest.json").write_text(json.dumps({"org_id": org_id, "rows": counts}, indent=2))
        out.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(out, "w:gz") as tar:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    tar.add(path, arcname=str(path.relative_to(root)))
    return counts


def delete_org(
    s: Session, org_id: int, blobs: BlobStore, *, actor: str, operators_org_id: int
) -> dict[str, int]:
    """Remove an organization and everything that belongs to it; returns rows removed per table."""
    org = s.get(Organization, org_id)
    if org is None:
        raise NotFound("no such organization")
    if org_id == operators_org_id:
        raise Conflict("the operators' own organization cannot be deleted")
    scope = _scope(s, org_id)
    shas = _media_of(s, scope.get("items", set()))
    _clear_outside_references(s, scope)
    removed: dict[str, int] = {}
    for table in reversed(Base.metadata.sorted_tables):
        ids = scope.get(table.name)
        if ids:
            pk = next(iter(table.primary_key.columns))
            s.execute(delete(table).where(pk.in_(ids)))
            removed[table.name] = len(ids)
    s.flush()
    for sha in shas - _still_used(s, shas):
        blobs.delete(sha)
    audit.record(
        s, operators_org_id, actor, "org.deleted", "organization", org_id, {"name": org.name, "rows": removed}
    )
    return removed


def _clear_outside_references(s: Session, scope: dict[str, set[Any]]) -> None:
    """Null the references other organizations' rows hold to rows about to go (or refuse)."""
    for table in Base.metadata.sorted_tables:
        mine = scope.get(table.name, set())
        pk = next(iter(table.primary_key.columns))
        for fk in table.foreign_keys:
            targets = scope.get(fk.column.table.name)
            if not targets:
                continue
            outside = select(pk).where(fk.parent.in_(targets))
            if mine:
                outside = outside.where(pk.not_in(mine))
            ids = set(s.scalars(outside))
            if not ids:
                continue
            if not fk.parent.nullable:
                raise Conflict(f"rows of other organizations in {table.name} depend on this one")
            s.execute(update(table).where(pk.in_(ids)).values({fk.parent.name: None}))


def purge(s: Session, blobs: BlobStore, policy: RetentionPolicy, public_org_name: str) -> dict[str, int]:
    """Apply the retention policy now; returns what was removed."""
    now = utcnow()
    done: dict[str, int] = {}
    public = s.scalar(select(Organization.id).where(Organization.name == public_org_name))
    if public is not None:
        old = now - dt.timedelta(days=policy.public_submission_days)
        taken = select(Case.item_id)
        items = list(
            s.scalars(select(Item).where(Item.org_id == public, Item.created_at < old, Item.id.not_in(taken)))
        )
        ids = [i.id for i in items]
        if ids:
            shas = _media_of(s, set(ids))
            s.execute(delete(Job).where(Job.item_id.in_(ids)))
            s.execute(delete(Item).where(Item.id.in_(ids)))
            s.flush()
            for sha in shas - _still_used(s, shas):
                blobs.delete(sha)
        done["public_submissions"] = len(ids)
    personal = now - dt.timedelta(days=policy.personal_data_days)
    ended = (WebSession.revoked_at < personal) | (WebSession.expires_at < personal)
    done["sessions"] = _count_delete(s, WebSession.__table__, ended)
    links = (AccountToken.used_at < personal) | (AccountToken.expires_at < personal)
    done["links"] = _count_delete(s, AccountToken.__table__, links)
    stale = LoginThrottle.last_failure_at < now - dt.timedelta(hours=policy.throttle_hours)
    done["throttle"] = _count_delete(s, LoginThrottle.__table__, stale)
    done["tip_requesters"] = tips.purge_expired(s, now)  # address and text; the counts stay
    return done


def _count_delete(s: Session, table: Any, condition: Any) -> int:
    n = int(s.scalar(select(func.count()).select_from(table).where(condition)) or 0)
    if n:
        s.execute(delete(table).where(condition))
    return n
