"""``civicshield``: the command line. A thin shell over the library; errors are rendered in one place.

Exit codes (also in the README):
    0  every item was analyzed (whatever the verdicts)
    1  internal error (a bug: please report it)
    2  usage or configuration error (bad arguments, unknown analyzer, bad bank file)
    3  at least one item could not be analyzed (unsupported, corrupt or too large); the others are reported
    4  ``--fail-on LABEL`` matched at least one item
    5  signing failed
    6  ``transparency verify``: the log copy does not verify (tampered, truncated, forked or rewritten)
"""

from __future__ import annotations

import sys

import typer

from civicshield import __version__
from civicshield.cli import (
    admin,
    analyze,
    bank,
    evaluate,
    models,
    phishing,
    service,
    sign,
    transparency,
    watchlist,
)
from civicshield.cli.console import out
from civicshield.cli.errors import render_error
from civicshield.errors import CivicShieldError

__all__ = ["app", "main"]

app = typer.Typer(
    name="civicshield",
    help="Explained verdicts on images, video and audio.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(analyze.analyze)
app.command("analyzers")(analyze.list_analyzers)
app.command()(analyze.schema)
app.command()(service.demo)
app.command()(service.serve)
app.command()(service.worker)
app.command("tipline-smtp")(service.tipline_smtp)
app.command("sign")(sign.sign)
app.command("email")(phishing.email_command)
app.add_typer(bank.bank_app, name="bank")
app.add_typer(admin.admin_app, name="admin")
app.add_typer(watchlist.watchlist_app, name="watchlist")
app.add_typer(transparency.transparency_app, name="transparency")
app.add_typer(models.models_app, name="models")
evaluate.register(app)


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


def main() -> None:
    try:
        app()
    except CivicShieldError as exc:  # errors raised outside a command's own handler
        render_error(exc)
        sys.exit(exc.exit_code)
