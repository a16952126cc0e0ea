"""The command line (``civicshield``): one module per command group, errors rendered in one place
(``cli.errors``), the commands assembled in ``cli.app``. A thin shell over the library and the service."""

from civicshield.cli.app import app, main

__all__ = ["app", "main"]
