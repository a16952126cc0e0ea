"""The public library API is what ``__all__`` says, and the README names exactly those (as httpx's
``test_exported_members`` does): nothing public by accident, nothing documented that does not exist."""

from __future__ import annotations

import re
import types
from pathlib import Path

import civicshield

README = Path(__file__).resolve().parents[1] / "README.md"


def test_all_is_exactly_the_public_names() -> None:
    public = {
        name
        for name in dir(civicshield)
        if not name.startswith("_") and not isinstance(getattr(civicshield, name), types.ModuleType)
    }
    assert public == set(civicshield.__all__) - {"__version__"}
    for name in civicshield.__all__:
        value = getattr(civicshield, name)
        assert name == "__version__" or value.__module__.startswith("civicshield."), name


def test_the_readme_documents_every_public_name() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Use it as a library", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([A-Za-z_]+)`", section.split("Public names", 1)[1]))
    assert listed == set(civicshield.__all__) - {"__version__"}
