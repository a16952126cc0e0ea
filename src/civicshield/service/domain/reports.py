"""Reading the analysis reports jobs stored (``Verdict.to_dict()``): one analyzer's signal, and the one
sentence the c2pa analyzer wrote of what a file's Content Credentials declare."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["plain_sentence", "signal"]


def signal(report: Mapping[str, Any] | None, analyzer: str) -> Mapping[str, Any] | None:
    """The stored signal of ``analyzer``, if it ran."""
    for sig in (report or {}).get("signals", []):
        if isinstance(sig, Mapping) and sig.get("analyzer") == analyzer:
            return sig
    return None


def plain_sentence(report: Mapping[str, Any] | None) -> str | None:
    """The one sentence the c2pa analyzer wrote of what the credentials declare, if it read any."""
    plain = (signal(report, "c2pa") or {}).get("evidence", {}).get("plain")
    return plain if isinstance(plain, str) else None
