"""Where the command line writes: results to standard output, messages and progress to standard error."""

from __future__ import annotations

from rich.console import Console

out = Console()
err = Console(stderr=True)
