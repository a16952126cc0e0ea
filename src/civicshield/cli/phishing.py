"""``civicshield email``: is this e-mail phishing aimed at protected people or bodies?"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from civicshield.cli.console import out
from civicshield.cli.errors import handled
from civicshield.errors import MediaError, UsageError
from civicshield.media import Media
from civicshield.pipeline import Engine
from civicshield.protection.email import Attachment, EmailLimits, assess, dkim_result, read_email
from civicshield.protection.watchlist import Watchlist
from civicshield.settings import Settings


def _keys(path: Path | None) -> dict[str, str]:
    """``selector._domainkey.domain <TXT text>`` per line (``#`` comments), as published in DNS."""
    if path is None:
        return {}
    keys: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, text = line.partition(" ")
        if "._domainkey." not in name or not text.strip():
            raise UsageError(f"{path}:{n}: expected 'selector._domainkey.domain v=DKIM1; k=rsa; p=...'")
        keys[name.rstrip(".").lower()] = text.strip().strip('"')
    return keys


def email_command(
    message: Annotated[Path, typer.Argument(help="The message, as an .eml file (RFC 5322).")],
    watchlist: Annotated[
        Path | None,
        typer.Option("--watchlist", help="Protected people and domains (TOML; or $CIVICSHIELD_WATCHLIST)."),
    ] = None,
    dkim_keys: Annotated[
        Path | None,
        typer.Option(
            "--dkim-keys",
            help="Public keys to verify DKIM with, one 'selector._domainkey.domain TXT' a line.",
        ),
    ] = None,
    attachments: Annotated[
        bool, typer.Option("--attachments/--no-attachments", help="Analyze the media attached.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check an e-mail for lookalike sender domains and links, display-name impersonation of protected
    people and failed authentication; analyze the media attached. Exit 4 when phishing is suspected."""
    with handled():
        settings = Settings.from_env()
        listed = watchlist or settings.watchlist
        protected = Watchlist.load(listed) if listed else Watchlist()
        try:
            data = message.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {message}: {exc.strerror}") from exc
        facts = read_email(data, EmailLimits())
        verdict = assess(facts, protected, dkim=dkim_result(facts, _keys(dkim_keys)))
        media = _attachments(facts.attachments, settings.with_(watchlist=listed)) if attachments else []
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "label": verdict.label,
                    "findings": [{"code": f.code, "message": f.message} for f in verdict.findings],
                    "subject": facts.subject,
                    "senders": [{"header": h, "domain": d} for h, d in facts.senders],
                    "links": list(facts.hosts),
                    "authentication": [{"method": m, "result": r} for m, r in facts.authentication],
                    "attachments": media,
                    "watchlist_entries": len(protected),
                }
            )
        )
    else:
        table = Table(title=f"{message.name}: {verdict.label.replace('_', ' ')}", show_lines=True)
        table.add_column("finding")
        table.add_column("why")
        for f in verdict.findings:
            table.add_row(f.code, f.message)
        for item in media:
            table.add_row(f"attachment {item['filename']}", str(item.get("label") or item.get("error")))
        out.print(table)
        if not len(protected):
            out.print("No watchlist: only authentication results and attachments were checked (--watchlist).")
    if verdict.suspected:
        raise typer.Exit(4)


def _attachments(attached: Sequence[Attachment], settings: Settings) -> list[dict[str, Any]]:
    """The verdict of every attachment that is media (the others are listed as not analyzed)."""
    results: list[dict[str, Any]] = []
    engine: Engine | None = None
    try:
        for item in attached:
            entry: dict[str, Any] = {"filename": item.filename, "content_type": item.content_type}
            try:
                media = Media.from_bytes(item.data, name=item.filename, limits=settings.limits)
            except MediaError as exc:
                entry["error"] = f"not analyzed: {exc.message}"
                results.append(entry)
                continue
            engine = engine or Engine.from_settings(settings)
            verdict = engine.analyze(media)
            entry["label"] = str(verdict.label)
            entry["headline"] = verdict.headline
            results.append(entry)
    finally:
        if engine is not None:
            engine.close()
    return results
