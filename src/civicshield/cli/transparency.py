"""``civicshield transparency verify``: check a copy of the public transparency log yourself.

Download the log (``GET /api/v1/transparency/log``) and, from a channel you trust, the log's public key; keep
the signed head you saw last time as a checkpoint. The command recomputes every leaf and every signed root
and tells whether the history was tampered with, truncated, forked or rewritten since your checkpoint. It
needs no network and does not trust the server. Exit 0 when the copy verifies, 6 when it does not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from civicshield.cli.console import out
from civicshield.cli.errors import handled
from civicshield.errors import UsageError
from civicshield.transparency.verify import public_key, verify_copy

__all__ = ["transparency_app"]

transparency_app = typer.Typer(help="The public transparency log.", no_args_is_help=True)
FAILED = 6


def _json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    if not isinstance(value, dict):
        raise UsageError(f"{path} is not a JSON object")
    return value


@transparency_app.command("verify")
def verify(
    log: Annotated[Path, typer.Argument(help="A copy of the log (GET /api/v1/transparency/log).")],
    key: Annotated[
        str | None,
        typer.Option("--key", help="The log's public key (base64), obtained from a channel you trust."),
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="A signed head you saved before (JSON), to detect rewrites."),
    ] = None,
) -> None:
    """Verify a copy of the transparency log: signatures, every signed root, no truncation, no fork."""
    with handled():
        copy = _json(log)
        try:
            trusted = public_key(key) if key else None
        except ValueError as exc:
            raise UsageError(f"--key is not an Ed25519 public key in base64: {exc}") from exc
        saved = _json(checkpoint) if checkpoint else None
        result = verify_copy(copy, trusted_key=trusted, checkpoint=saved)
    if result.ok:
        out.print(f"verified: {result.entries} entries, {result.heads} signed heads")
        if result.key_from_copy:
            out.print("note: the key came from the copy itself (--key pins the one you trust)")
        return
    for problem in result.problems:
        out.print(f"FAILED: {problem}")
    raise typer.Exit(FAILED)
