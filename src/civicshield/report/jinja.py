"""The one way this project builds a Jinja environment for HTML: autoescape on for every template.

Why one factory: ``select_autoescape()`` escapes by file extension (``.html``, ``.htm``, ``.xml`` by
default), and a template named ``fact_check.html.j2`` fell outside it, so a fact-check's title reached the
public page unescaped (stored XSS). Here escaping does not depend on names: it is on, always. Values that
go into a ``<script type="application/ld+json">`` block use Jinja's ``tojson`` filter, which escapes ``<``,
``>``, ``&`` and ``'`` so no string can close the block. Links that come from users go through ``href``,
which lets only http(s), mailto and same-site paths through (``javascript:`` survives HTML escaping).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from jinja2 import BaseLoader, Environment

__all__ = ["html_environment", "safe_href"]

_SCHEMES = frozenset({"http", "https", "mailto"})


def safe_href(value: object) -> str:
    """``value`` if it is an http(s) or mailto URL or a path on this site, else ``"#"``."""
    text = str(value or "").strip()
    if not text or any(ord(c) < 0x20 for c in text):
        return "#"
    try:
        parts = urlsplit(text)
    except ValueError:
        return "#"
    if parts.scheme:
        return text if parts.scheme.lower() in _SCHEMES else "#"
    return text if text.startswith("/") and not text.startswith(("//", "/\\")) else "#"


def html_environment(loader: BaseLoader, *, extensions: Sequence[str] = ()) -> Environment:
    """An environment that escapes every template it renders, whatever the file is called."""
    env = Environment(
        loader=loader,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=list(extensions),
    )
    env.filters["href"] = safe_href
    return env
