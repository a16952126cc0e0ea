"""Security guidance and mitigation plans, shipped with the package: a checklist and incident playbooks.

The content is versioned data (``data/guidance/guidance.toml``), in English, Dutch, French and German, so a
fact-checker in Brussels and a party office in Munich read the same advice. A checklist item has a weight
(how much it counts in an organization's posture score); a playbook has steps, each with an owner role and
a timer (minutes from the start of the incident), and the finding codes that open it from a notification
(``playbook_for``: a lookalike domain opens the phishing playbook, a voice match the voice-clone one).

An organization's progress on the checklist and its open plans belong to the service
(``service.domain.guidance``); this module is the content and nothing else.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from civicshield.errors import ConfigurationError

__all__ = ["LANGUAGES", "ChecklistItem", "Guidance", "Playbook", "Step", "Text", "guidance"]

LANGUAGES = ("en", "nl", "fr", "de")


@dataclass(frozen=True)
class Text:
    """One text in every language; ``in_(lang)`` falls back to English for a language we do not ship."""

    en: str
    nl: str
    fr: str
    de: str

    def in_(self, lang: str) -> str:
        return str(getattr(self, lang)) if lang in LANGUAGES else self.en


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    weight: int
    title: Text
    how: Text


@dataclass(frozen=True)
class Step:
    id: str
    owner: str  # a key of ``Guidance.owners``
    minutes: int  # due this long after the plan was opened
    text: Text


@dataclass(frozen=True)
class Playbook:
    id: str
    title: Text
    steps: tuple[Step, ...]
    opens_on: tuple[str, ...]  # finding codes for which a notification offers this playbook

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)


@dataclass(frozen=True)
class Guidance:
    version: str
    owners: dict[str, Text]
    checklist: tuple[ChecklistItem, ...]
    playbooks: tuple[Playbook, ...]

    def playbook(self, playbook_id: str) -> Playbook | None:
        return next((p for p in self.playbooks if p.id == playbook_id), None)

    def item(self, item_id: str) -> ChecklistItem | None:
        return next((i for i in self.checklist if i.id == item_id), None)

    def playbook_for(self, codes: Iterable[str]) -> Playbook | None:
        """The playbook a notification with these finding codes links to: the first whose ``opens_on``
        holds one of them, in the file's order (a lookalike domain and a named person: phishing first)."""
        found = set(codes)
        ranked = sorted(
            self.playbooks, key=lambda p: 0 if "impersonation.lookalike_domain" in p.opens_on else 1
        )
        return next((p for p in ranked if found & set(p.opens_on)), None)

    @property
    def total_weight(self) -> int:
        return sum(item.weight for item in self.checklist)


def _text(raw: Any, where: str) -> Text:
    if not isinstance(raw, dict) or any(
        not isinstance(raw.get(lang), str) or not raw[lang].strip() for lang in LANGUAGES
    ):
        raise ConfigurationError(f"guidance: {where} needs a text in each of {', '.join(LANGUAGES)}")
    return Text(**{lang: " ".join(raw[lang].split()) for lang in LANGUAGES})


def parse(raw: dict[str, Any]) -> Guidance:
    """Guidance from its TOML form; ``ConfigurationError`` naming the entry that is incomplete."""
    owners = {key: _text(value, f"owner {key}") for key, value in raw.get("owners", {}).items()}
    checklist = tuple(
        ChecklistItem(
            i["id"], int(i.get("weight", 1)), _text(i.get("title"), i["id"]), _text(i.get("how"), i["id"])
        )
        for i in raw.get("checklist", [])
    )
    playbooks = []
    for p in raw.get("playbook", []):
        steps = []
        for s in p.get("step", []):
            if s.get("owner") not in owners:
                raise ConfigurationError(f"guidance: playbook {p['id']} step {s.get('id')}: unknown owner")
            steps.append(
                Step(s["id"], s["owner"], int(s["minutes"]), _text(s.get("text"), f"{p['id']}/{s['id']}"))
            )
        playbooks.append(
            Playbook(p["id"], _text(p.get("title"), p["id"]), tuple(steps), tuple(p.get("opens_on", [])))
        )
    ids = [i.id for i in checklist] + [p.id for p in playbooks]
    if len(ids) != len(set(ids)):
        raise ConfigurationError("guidance: checklist and playbook ids must be unique")
    return Guidance(str(raw["version"]), owners, checklist, tuple(playbooks))


@cache
def guidance() -> Guidance:
    """The guidance shipped with this version of CivicShield."""
    text = resources.files("civicshield").joinpath("data/guidance/guidance.toml").read_text(encoding="utf-8")
    return parse(tomllib.loads(text))
