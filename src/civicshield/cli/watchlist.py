"""``civicshield watchlist``: enrol protected people's faces and voices and official visuals; see what a
watchlist holds.

``enrol`` computes embeddings from reference photos and recordings and appends a ``[[person]]`` table to
the watchlist file (tables with the same name are merged when read, so enrolling again adds references).
Only the embeddings are written: the reference files are not copied anywhere and can be deleted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from civicshield.analyzers.impersonation import reference_face, reference_voice
from civicshield.banks.policy import DEFAULT_POLICY
from civicshield.cli.console import out
from civicshield.cli.errors import handled
from civicshield.errors import UsageError
from civicshield.hashing.cache import media_hashes
from civicshield.media import Media, MediaKind
from civicshield.protection.watchlist import (
    ProtectedPerson,
    ProtectedVisual,
    Watchlist,
    person_table,
    visual_table,
)
from civicshield.settings import Settings

__all__ = ["watchlist_app"]

watchlist_app = typer.Typer(
    help="Protected people, faces, voices and domains (a TOML file).", no_args_is_help=True
)

WatchlistFile = Annotated[
    Path, typer.Argument(help="The watchlist file (TOML); created if it does not exist.")
]


@watchlist_app.command("enrol")
def enrol(
    watchlist: WatchlistFile,
    name: Annotated[str, typer.Option("--name", help="The person's name, as it is written in captions.")],
    face: Annotated[list[Path] | None, typer.Option("--face", help="A reference photo (repeatable).")] = None,
    voice: Annotated[
        list[Path] | None, typer.Option("--voice", help="A reference recording, a few seconds (repeatable).")
    ] = None,
    alias: Annotated[list[str] | None, typer.Option("--alias", help="Another name (repeatable).")] = None,
    organization: Annotated[str, typer.Option("--organization", help="Whom the person works for.")] = "",
) -> None:
    """Add a protected person, or more reference faces and voices of one, to a watchlist file."""
    with handled():
        limits = Settings.from_env().limits
        faces = tuple(reference_face(Media.open(path, limits)) for path in face or [])
        voices = tuple(reference_voice(Media.open(path, limits)) for path in voice or [])
        if not (faces or voices or alias) and watchlist.exists() and Watchlist.load(watchlist).person(name):
            raise UsageError(
                f"{name} is already in {watchlist}; give --face, --voice or --alias to add to it"
            )
        person = ProtectedPerson(name, tuple(alias or ()), organization, faces=faces, voices=voices)
        _append(watchlist, person_table(person))
        merged = Watchlist.load(watchlist).person(name)
        assert merged is not None
        out.print(
            f"{merged.name}: {len(merged.faces)} face(s), {len(merged.voices)} voice(s) in {watchlist} "
            "(embeddings only; the reference files were not copied)"
        )


@watchlist_app.command("visual")
def visual(
    watchlist: WatchlistFile,
    picture: Annotated[Path, typer.Argument(help="The logo, poster or official visual.")],
    name: Annotated[str, typer.Option("--name", help="What it is (shown in findings).")],
    organization: Annotated[str, typer.Option("--organization", help="Whose it is.")] = "",
) -> None:
    """Protect a logo or official visual: its PDQ hash is added to the watchlist, so copies are reported."""
    with handled():
        media = Media.open(picture, Settings.from_env().limits)
        pdq = media_hashes(media).pdq if media.kind is MediaKind.IMAGE else None
        if pdq is None or pdq.quality < DEFAULT_POLICY.pdq_min_quality:
            raise UsageError(f"{picture.name}: not a picture with enough detail to recognise copies of")
        _append(watchlist, visual_table(ProtectedVisual(" ".join(name.split()), pdq.hex, organization)))
        out.print(f"{name}: PDQ {pdq.hex} (quality {pdq.quality}) added to {watchlist}")


def _append(watchlist: Path, table: str) -> None:
    before = watchlist.read_text(encoding="utf-8") if watchlist.exists() else ""
    after = before + ("\n" if before and not before.endswith("\n\n") else "") + table
    Watchlist.from_dict(_parsed(after, watchlist), where=str(watchlist))  # refuse what would not load
    watchlist.write_text(after, encoding="utf-8")


@watchlist_app.command("show")
def show(watchlist: Annotated[Path, typer.Argument(help="The watchlist file (TOML).")]) -> None:
    """What a watchlist protects: people (with how many faces and voices) and domains."""
    with handled():
        listed = Watchlist.load(watchlist)
        table = Table("kind", "name", "aliases", "organization", "faces", "voices")
        for p in listed.people:
            table.add_row(
                "person", p.name, ", ".join(p.aliases), p.organization, str(len(p.faces)), str(len(p.voices))
            )
        for d in listed.domains:
            table.add_row("domain", d.name, "", d.organization, "", "")
        for h in listed.handles:
            table.add_row("handle", h.label, "", h.organization, "", "")
        for v in listed.visuals:
            table.add_row("visual", v.name, f"PDQ {v.pdq[:16]}…", v.organization, "", "")
        out.print(table)


def _parsed(text: str, path: Path) -> dict[str, object]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML, so nothing was added: {exc}") from exc
