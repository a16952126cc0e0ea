"""Expand CLI arguments (files, folders, ``-``) into the items to analyze."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from civicshield.errors import UsageError

STDIN = Path("-")
_SKIP_DIRS = {".git", ".venv", "__pycache__", ".civicshield"}


def expand(args: Sequence[str]) -> list[Path]:
    """Files as given; folders recursively in a stable order (hidden files skipped); ``-`` for stdin."""
    out: list[Path] = []
    for arg in args:
        if arg == "-":
            out.append(STDIN)
            continue
        path = Path(arg)
        if path.is_dir():
            out.extend(_walk(path))
        elif path.exists():
            out.append(path)
        else:
            raise UsageError(f"no such file or folder: {arg}")
    return out


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name
