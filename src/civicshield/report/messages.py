"""The verdict in the reader's language: headlines by verdict label, reasons by finding code.

Analyzers write each finding's message in English, and keep its facts in the finding's ``detail``
(probability, threshold, bank, label, signer...). A translation is a template per finding code in
``data/messages/<lang>.toml`` whose ``{placeholders}`` are filled from that detail, so the numbers are the
analyzer's own and never re-typed. English keeps the analyzer's message (``en.toml`` is the reference that
translators follow, key for key). A code a catalogue does not know, or a detail that lacks a placeholder,
falls back to the English message: a reader is never shown a half-filled sentence. Scores that decided
nothing and abstentions are summaries without a code and stay in English.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = [
    "LANGUAGES",
    "catalogue",
    "headline",
    "label_words",
    "language_of",
    "placeholders",
    "reason",
    "translated",
]

LANGUAGES = ("en", "nl", "fr", "de")
PARTS = ("label", "headline", "reason", "tipline")


@lru_cache(maxsize=len(LANGUAGES))
def catalogue(lang: str) -> dict[str, dict[str, str]]:
    """``{"label": {label: words}, "headline": {label: text}, "reason": {code: template}, "tipline": {key:
    text}}`` of one language (``en`` for others)."""
    name = lang if lang in LANGUAGES else "en"
    raw = resources.files("civicshield").joinpath(f"data/messages/{name}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(raw)
    return {part: dict(data.get(part, {})) for part in PARTS}


def placeholders(template: str) -> set[str]:
    """The names a template fills in."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def language_of(code: str) -> str:
    """The base language of a tag (``nl-BE`` -> ``nl``), lower-case."""
    return code.split("-")[0].split("_")[0].lower()


def _per_label(part: str, label: str, english: str, lang: str) -> str:
    lang = language_of(lang)
    if lang == "en":
        return english
    return catalogue(lang)[part].get(label, english)


def label_words(label: str, english: str, lang: str) -> str:
    """The words of a verdict ``label`` (its badge) in ``lang`` (``english`` otherwise)."""
    return _per_label("label", label, english, lang)


def headline(label: str, english: str, lang: str) -> str:
    """The headline of a verdict ``label`` in ``lang`` (the policy's English ``english`` otherwise)."""
    return _per_label("headline", label, english, lang)


def _value(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, list | tuple) and all(isinstance(v, str | int) for v in value):
        return ", ".join(str(v) for v in value)
    return None


def _params(detail: Mapping[str, Any]) -> dict[str, str]:
    params = {k: v for k, v in ((k, _value(v)) for k, v in detail.items()) if v is not None}
    signer = params.get("organization") or params.get("common_name") or params.get("issuer")
    if signer:
        params.setdefault("signer", signer)
    return params


def reason(code: str | None, detail: Mapping[str, Any] | None, english: str, lang: str) -> str:
    """One reason in ``lang``: the template of ``code`` filled from ``detail``, or ``english``."""
    lang = language_of(lang)
    if lang == "en" or not code:
        return english
    templates = catalogue(lang)["reason"]
    template = templates.get(code) or templates.get("*." + code.rsplit(".", 1)[-1])
    if template is None:
        return english
    params = _params(detail or {})
    if not placeholders(template) <= params.keys():
        return english
    return template.format_map(params)


def _detail(signals: Any, analyzer: str, code: str, text: str) -> Mapping[str, Any] | None:
    for signal in signals if isinstance(signals, list) else []:
        if not isinstance(signal, Mapping) or signal.get("analyzer") != analyzer:
            continue
        for finding in signal.get("findings") or []:
            if (
                isinstance(finding, Mapping)
                and finding.get("code") == code
                and finding.get("message") == text
            ):
                detail = finding.get("detail")
                return detail if isinstance(detail, Mapping) else None
    return None


def translated(report: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """A verdict in the shape of ``Verdict.to_dict()`` (a job's stored report) with its headline and reasons
    in ``lang``; every other field as it was. English is returned unchanged."""
    if language_of(lang) == "en" or not isinstance(report.get("verdict"), Mapping):
        return dict(report)
    verdict = dict(report["verdict"])
    verdict["headline"] = headline(str(verdict.get("label", "")), str(verdict.get("headline", "")), lang)
    reasons = []
    for raw in verdict.get("reasons") or []:
        r = dict(raw)
        detail = _detail(
            report.get("signals"), str(r.get("analyzer")), str(r.get("code")), str(r.get("text"))
        )
        r["text"] = reason(r.get("code"), detail, str(r.get("text", "")), lang)
        reasons.append(r)
    verdict["reasons"] = reasons
    return {**report, "verdict": verdict}
