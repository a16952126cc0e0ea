"""``civicshield admin ...``: the operator's console for the coalition service (the database and settings of
``serve``, from the ``CIVICSHIELD_*`` environment). Links are printed for the operator to pass on; with an
SMTP server configured, ``user invite --mail`` sends them instead. Every action lands in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from civicshield.cli.errors import handled
from civicshield.errors import NotFound

admin_app = typer.Typer(
    help="Operate the coalition service: organizations, members, keys.", no_args_is_help=True
)
org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
user_app = typer.Typer(help="Members: invite, disable, enable, reset.", no_args_is_help=True)
key_app = typer.Typer(help="API keys: revoke, rotate.", no_args_is_help=True)
admin_app.add_typer(org_app, name="org")
admin_app.add_typer(user_app, name="user")
admin_app.add_typer(key_app, name="key")
out = Console()


@contextmanager
def _session() -> Iterator[tuple[Any, Any]]:
    """A writing database session and the service settings, errors reported."""
    from civicshield.service import compose
    from civicshield.service.settings import ServiceSettings

    with handled():
        settings = ServiceSettings.from_env()
        with compose.opened(settings) as db, db.session() as s:
            yield s, settings


def _console_operator(org_id: int) -> Any:
    """Who acts from the console: an operator, as recorded in the audit log (``console:operator``)."""
    from civicshield.service.domain.principal import Principal
    from civicshield.service.domain.security import Role

    return Principal(user_id=0, org_id=org_id, role=Role.PLATFORM_ADMIN, email="operator", via="console")


def _user(s: Any, email: str) -> Any:
    from sqlalchemy import select

    from civicshield.service.domain.tables import User

    user = s.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no account with the address {email}")
    return user


@admin_app.command("setup-link")
def setup_link() -> None:
    """Print a one-time link that creates the first operator (while none exists)."""
    from civicshield.service.domain import onboarding

    with _session() as (s, settings):
        link = onboarding.setup_link(s, settings.base_url)
    out.print(link or "The coalition has an operator already: ask them for an invitation.", highlight=False)


@org_app.command("create")
def org_create(
    name: str, kind: Annotated[str, typer.Option(help="fact_checker, election_authority, party, ...")]
) -> None:
    from civicshield.service.domain import store

    with _session() as (s, _):
        org = store.create_org(s, name, kind)
        out.print(f"organization {org.id}: {org.name} ({org.kind})", highlight=False)


@org_app.command("list")
def org_list() -> None:
    from sqlalchemy import func, select

    from civicshield.service.domain.tables import Organization, User

    table = Table(title="Organizations")
    for col in ("id", "name", "kind", "members", "state"):
        table.add_column(col)
    with _session() as (s, _):
        counts = dict(s.execute(select(User.org_id, func.count()).group_by(User.org_id)).all())
        for org in s.scalars(select(Organization).order_by(Organization.id)):
            state = "suspended" if org.suspended_at else "active"
            table.add_row(str(org.id), org.name, org.kind, str(counts.get(org.id, 0)), state)
    out.print(table)


@org_app.command("suspend")
def org_suspend(org_id: int) -> None:
    """Its members cannot sign in and its keys are refused; nothing is deleted."""
    from civicshield.service.domain import onboarding

    with _session() as (s, _):
        onboarding.set_org_suspended(s, _console_operator(0), org_id, True)
    out.print(f"organization {org_id} suspended")


@org_app.command("resume")
def org_resume(org_id: int) -> None:
    from civicshield.service.domain import onboarding

    with _session() as (s, _):
        onboarding.set_org_suspended(s, _console_operator(0), org_id, False)
    out.print(f"organization {org_id} active again")


@user_app.command("invite")
def user_invite(
    email: str,
    org: Annotated[int, typer.Option("--org", help="Organization id (see `admin org list`).")],
    role: Annotated[
        str, typer.Option(help="viewer, analyst, reviewer, org_admin, platform_admin.")
    ] = "analyst",
    mail: Annotated[bool, typer.Option("--mail", help="Send it by e-mail instead of printing it.")] = False,
) -> None:
    """An invitation link for ``email`` into organization ``--org``, printed (or mailed)."""
    from civicshield.service.domain import onboarding
    from civicshield.service.infra.mail import Mailer

    with _session() as (s, settings):
        who = _console_operator(org)
        if mail:
            onboarding.invite(
                s, who, Mailer(settings.mail), settings.base_url, email=email, role=role, org_id=org
            )
            out.print(f"invitation mailed to {email}")
            return
        link = onboarding.invitation_link(s, who, settings.base_url, email=email, role=role, org_id=org)
    out.print(link, highlight=False)


def _set_active(email: str, active: bool) -> None:
    from civicshield.service.domain import onboarding

    with _session() as (s, _):
        user = _user(s, email)
        onboarding.set_user_active(s, _console_operator(user.org_id), user.id, active)
    out.print(f"{email} {'enabled' if active else 'disabled'}")


@user_app.command("disable")
def user_disable(email: str) -> None:
    """Sign the person out everywhere and refuse their sign-ins and keys."""
    _set_active(email, False)


@user_app.command("enable")
def user_enable(email: str) -> None:
    _set_active(email, True)


@user_app.command("reset")
def user_reset(email: str) -> None:
    """Print a one-time link with which the person chooses a new password (valid for an hour)."""
    from civicshield.service.domain import onboarding

    with _session() as (s, settings):
        user = _user(s, email)
        link = onboarding.reset_link(s, _console_operator(user.org_id), settings.base_url, user.id)
    out.print(link, highlight=False)


def _key_org(s: Any, prefix: str) -> int:
    from sqlalchemy import select

    from civicshield.service.domain.tables import ApiKey

    org_id = s.scalar(select(ApiKey.org_id).where(ApiKey.prefix == prefix))
    if org_id is None:
        raise NotFound(f"no key {prefix}")
    return int(org_id)


@key_app.command("revoke")
def key_revoke(prefix: str) -> None:
    from civicshield.service.domain import store

    with _session() as (s, _):
        store.revoke_api_key(s, _console_operator(_key_org(s, prefix)), prefix)
    out.print(f"key {prefix} revoked")


@key_app.command("rotate")
def key_rotate(prefix: str) -> None:
    """A new key with the same name and scopes (printed once); the old one is revoked."""
    from civicshield.service.domain import onboarding

    with _session() as (s, _):
        new = onboarding.rotate_key(s, _console_operator(_key_org(s, prefix)), prefix)
    out.print(new.token, highlight=False)


@admin_app.command("backup")
def backup_command(out_file: Annotated[Path, typer.Argument(help="Where to write the .tar.gz.")]) -> None:
    """Database rows, stored media and keys in one archive (it holds secrets: keep it safe)."""
    from civicshield.service.infra.backup import backup
    from civicshield.service.settings import ServiceSettings

    with handled():
        done = backup(ServiceSettings.from_env(), out_file)
    out.print(
        f"{done.path}: {sum(done.rows.values())} rows, {done.blobs} media files, schema {done.revision}"
    )


@admin_app.command("restore")
def restore_command(
    archive: Annotated[Path, typer.Argument(help="A backup made by `admin backup`.")],
) -> None:
    """Restore a backup into an empty database (SQLite or PostgreSQL, whichever is configured)."""
    from civicshield.service.infra.backup import restore
    from civicshield.service.settings import ServiceSettings

    with handled():
        done = restore(ServiceSettings.from_env(), archive)
    out.print(
        f"restored {sum(done.rows.values())} rows and {done.blobs} media files (schema {done.revision})"
    )


def _operators_org(s: Any) -> int:
    from sqlalchemy import select

    from civicshield.errors import Conflict
    from civicshield.service.domain.onboarding import OPERATORS_ORG
    from civicshield.service.domain.tables import Organization

    org_id = s.scalar(select(Organization.id).where(Organization.name == OPERATORS_ORG))
    if org_id is None:
        raise Conflict(
            "the coalition has no operator yet (admin setup-link): its audit log records deletions"
        )
    return int(org_id)


@org_app.command("export")
def org_export(org_id: int, out_file: Path) -> None:
    """One organization's rows (secrets left out) and media, as JSON lines in a .tar.gz."""
    from civicshield.service.infra import lifecycle
    from civicshield.service.infra.blobs import BlobStore

    with _session() as (s, settings):
        counts = lifecycle.export_org(s, org_id, BlobStore(settings.blob_dir), out_file)
    out.print(f"{out_file}: {sum(counts.values())} rows", highlight=False)


@org_app.command("delete")
def org_delete(
    org_id: int, yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False
) -> None:
    """Delete an organization with everything that belongs to it (export it first if it wants its data)."""
    from civicshield.errors import UsageError
    from civicshield.service.infra import lifecycle
    from civicshield.service.infra.blobs import BlobStore

    with _session() as (s, settings):
        if not yes:
            raise UsageError("deleting an organization cannot be undone: add --yes")
        removed = lifecycle.delete_org(
            s,
            org_id,
            BlobStore(settings.blob_dir),
            actor="console:operator",
            operators_org_id=_operators_org(s),
        )
    out.print(f"organization {org_id} deleted: {sum(removed.values())} rows")


@admin_app.command("purge")
def purge_now() -> None:
    """Apply the retention settings now (the worker also does it every hour)."""
    from civicshield.service.domain import store
    from civicshield.service.infra import lifecycle
    from civicshield.service.infra.blobs import BlobStore

    with _session() as (s, settings):
        removed = lifecycle.purge(
            s, BlobStore(settings.blob_dir), settings.retention, store.PUBLIC_INTAKE_ORG
        )
    out.print(", ".join(f"{k}: {v}" for k, v in removed.items()))


@admin_app.command("learning-export")
def learning_export(
    out_dir: Annotated[Path, typer.Argument(help="A new folder for manifest.csv and the media.")],
    org_id: Annotated[
        int | None,
        typer.Option(
            "--org", help="One organization's own set (up to AMBER+STRICT); default: the coalition's."
        ),
    ] = None,
) -> None:
    """Reviewers' labelled images of organizations that consented, within TLP, for `train feedback-probe`."""
    from civicshield.service.domain import learning
    from civicshield.service.infra.blobs import BlobStore
    from civicshield.service.infra.training_export import write_training_set

    with _session() as (s, settings):
        ts = learning.training_set(s, org_id=org_id)
        written = write_training_set(ts, BlobStore(settings.blob_dir), out_dir)
        learning.record_export(s, ts.examples, "console:operator", str(out_dir))
    labels = [e.label for e in ts.examples]
    out.print(
        f"{out_dir / 'manifest.csv'}: {written} items ({labels.count('ai')} AI-generated, "
        f"{labels.count('real')} genuine)",
        highlight=False,
    )
    for reason, n in sorted(ts.left_out.items()):
        out.print(f"  left out: {n} ({reason})", highlight=False)
