"""DISARM techniques: the open framework for describing disinformation incidents (DISARM Foundation,
CC BY-SA 4.0; ``data/disarm/LICENSE.md``). Incidents and cases are tagged with technique ids (``T0087.001``);
STIX exports carry the tagged techniques as the framework's own ``attack-pattern`` objects (same ids), so a
partner's DISARM tooling recognises them. ``tools/disarm/extract.py`` made the shipped table from the
framework's STIX bundle."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from civicshield.errors import UsageError

__all__ = ["ATTRIBUTION", "Technique", "attack_pattern", "techniques", "validate"]

ATTRIBUTION = "DISARM Framework by the DISARM Foundation, CC BY-SA 4.0"


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    tactic: str
    url: str
    stix_id: str
    created: str
    modified: str


@cache
def techniques() -> dict[str, Technique]:
    raw = json.loads(
        resources.files("civicshield").joinpath("data/disarm/techniques.json").read_text("utf-8")
    )
    return {t["id"]: Technique(**t) for t in raw["techniques"]}


def validate(ids: Iterable[str]) -> tuple[str, ...]:
    """Known DISARM technique ids, deduplicated in order; ``UsageError`` naming an unknown one."""
    known = techniques()
    out = []
    for raw in ids:
        tid = raw.strip().upper()
        if tid not in known:
            raise UsageError(f"{raw!r} is not a DISARM technique id (e.g. T0087.001)")
        if tid not in out:
            out.append(tid)
    return tuple(out)


def attack_pattern(tid: str) -> dict[str, Any]:
    """The framework's STIX 2.1 ``attack-pattern`` for ``tid`` (its own id and timestamps)."""
    t = techniques()[tid]
    return {
        "type": "attack-pattern",
        "spec_version": "2.1",
        "id": t.stix_id,
        "created": t.created,
        "modified": t.modified,
        "name": t.name,
        "kill_chain_phases": [{"kill_chain_name": "disarm", "phase_name": t.tactic}] if t.tactic else [],
        # The page URL goes in the description: a reference with a "url" must carry the page's hash (STIX
        # best practice 302), and the framework's pages change.
        "external_references": [
            {"source_name": "DISARM", "external_id": t.id, "description": f"{t.url} ({ATTRIBUTION})"}
        ],
    }
