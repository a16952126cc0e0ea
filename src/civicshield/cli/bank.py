"""``civicshield bank ...``: local banks of known fakes and of authentic official media."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from civicshield.banks import BankKind, BankStore, entries_to_csv, entries_to_json
from civicshield.banks.threatexchange import entries_to_te
from civicshield.cli.errors import handled
from civicshield.errors import UsageError
from civicshield.media import Media
from civicshield.settings import Settings

bank_app = typer.Typer(
    help="Manage local banks (known fakes, authentic official media).", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Where banks live (default .civicshield).")]
KindOpt = Annotated[
    str, typer.Option("--kind", help="known_fake, authentic or allowlist (used when the bank is new).")
]


def _store(data_dir: Path | None) -> BankStore:
    settings = Settings.from_env()
    if data_dir is not None:
        settings = settings.with_(data_dir=data_dir)
    return BankStore.from_settings(settings)


def _kind(kind: str) -> BankKind:
    try:
        return BankKind(kind)
    except ValueError:
        raise UsageError(f"--kind must be known_fake, authentic or allowlist, not {kind!r}") from None


@bank_app.command("list")
def list_banks(data_dir: DataDir = None) -> None:
    """List banks with their kind and number of entries."""
    with handled():
        store = _store(data_dir)
        table = Table(title=f"Banks in {store.root}")
        for col in ("name", "kind", "entries", "by signal type", "description"):
            table.add_column(col)
        for bank in store.load_all():
            counts: dict[str, int] = {}
            for e in bank.entries:
                counts[e.signal_type.value] = counts.get(e.signal_type.value, 0) + 1
            table.add_row(
                bank.name,
                bank.kind.value,
                str(len(bank.entries)),
                ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
                bank.description,
            )
        out.print(table)


@bank_app.command("import")
def import_bank(
    bank: Annotated[str, typer.Argument(help="Bank name (created when missing).")],
    file: Annotated[Path, typer.Argument(help="A .csv or .json file of entries.")],
    kind: KindOpt = "known_fake",
    te_label: Annotated[
        str | None,
        typer.Option(
            "--threatexchange-label",
            help="FILE is a python-threatexchange signal file ('<type> <signal>' lines): give every "
            "entry this label.",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Import entries (hash, signal_type, label, link, ...) from CSV or JSON, another coalition's STIX 2.1
    bundle, TAXII 2.1 envelope or MISP event (.json), or a python-threatexchange signal file (pdq, vpdq,
    video_sha256)."""
    with handled():
        store = _store(data_dir)
        store.ensure(bank, _kind(kind))
        added = store.import_file(bank, file, te_label=te_label)
        err.print(f"imported {len(added)} new entries into {bank}")


@bank_app.command("pull")
def pull_bank(
    bank: Annotated[str, typer.Argument(help="Bank name (created when missing).")],
    url: Annotated[
        str, typer.Argument(help="A TAXII 2.1 collection's objects URL (…/collections/ID/objects/).")
    ],
    token: Annotated[
        str | None, typer.Option("--token", envvar="CIVICSHIELD_TAXII_TOKEN", help="Bearer token, if any.")
    ] = None,
    networks: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-network", help="Also allow this private network (CIDR); public ones always are."
        ),
    ] = None,
    kind: KindOpt = "known_fake",
    data_dir: DataDir = None,
) -> None:
    """Pull another coalition's TAXII 2.1 collection (every page) into a bank: its file-hash and
    perceptual-hash indicators become entries; nothing is added when any page is malformed."""
    from civicshield.banks.taxii_pull import pull

    with handled():
        store = _store(data_dir)
        imported = pull(url, token=token, networks=networks or ())
        store.ensure(bank, _kind(kind))
        added = store.add_entries(bank, imported.entries)
        err.print(
            f"pulled {len(imported.entries)} entries (TLP:{imported.tlp}), {len(added)} new, into {bank}"
            + "".join(f"; skipped {n} ({why})" for why, n in sorted(imported.skipped.items()))
        )


@bank_app.command("export")
def export_bank(
    bank: Annotated[str, typer.Argument(help="Bank name.")],
    fmt: Annotated[str, typer.Option("--format", help="csv, json or threatexchange.")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default stdout).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Export a bank's entries as CSV or JSON, or as a python-threatexchange signal file (what its
    ``local_file`` collaboration reads; labels and links do not fit that format)."""
    with handled():
        if fmt not in ("csv", "json", "threatexchange"):
            raise UsageError("--format must be csv, json or threatexchange")
        entries = _store(data_dir).load(bank).entries
        if fmt == "threatexchange":
            exported = entries_to_te(entries)
            text = exported.text
            for why, count in exported.left_out.items():
                err.print(f"left out {count} entries: {why}", highlight=False)
        else:
            text = entries_to_csv(entries) if fmt == "csv" else entries_to_json(entries)
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")
            err.print(f"wrote {len(entries)} entries to {output}")


@bank_app.command("add")
def add_media(
    bank: Annotated[str, typer.Argument(help="Bank name (created when missing).")],
    files: Annotated[list[Path], typer.Argument(help="Media files whose hashes to register.")],
    label: Annotated[str, typer.Option("--label", help="What this is, e.g. 'Fake video of minister X'.")],
    link: Annotated[str | None, typer.Option("--link", help="Fact-check or source URL.")] = None,
    kind: KindOpt = "known_fake",
    data_dir: DataDir = None,
) -> None:
    """Hash media files (PDQ / vPDQ / audio fingerprint / sha256) and add them to a bank."""
    with handled():
        store = _store(data_dir)
        store.ensure(bank, _kind(kind))
        for path in files:
            added = store.add_media(bank, Media.open(path), label, link)
            err.print(
                f"{path}: {len(added)} new entries ({', '.join(e.signal_type.value for e in added) or '-'})"
            )
