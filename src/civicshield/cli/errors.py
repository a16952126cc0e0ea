"""The command line's one way of showing an error: ``error (code): message`` on stderr, and the error's own
exit code. Every ``civicshield`` command body runs inside ``handled()``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from civicshield.errors import CivicShieldError

__all__ = ["handled", "render_error"]

_err = Console(stderr=True)


def render_error(exc: CivicShieldError) -> None:
    _err.print(f"[bold red]error[/] [dim]({exc.code})[/]: {exc.message}", highlight=False)


@contextmanager
def handled() -> Iterator[None]:
    """Turn a ``CivicShieldError`` into its message and exit code (anything else is a bug: let it show)."""
    try:
        yield
    except CivicShieldError as exc:
        render_error(exc)
        raise typer.Exit(exc.exit_code) from exc
