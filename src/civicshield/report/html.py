"""Self-contained HTML report: one file, every image inlined, readable without a server."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader

from civicshield import __version__
from civicshield.errors import MediaError
from civicshield.report.jinja import html_environment
from civicshield.report.messages import label_words, translated
from civicshield.verdict import Verdict

LABEL_TEXT = {
    "known_fake": ("✖", "Known fake"),
    "impersonation_suspected": ("🎭", "Suspected impersonation"),
    "altered_official": ("✎", "Altered copy of official media"),
    "tampered": ("⚠", "Tampered after signing"),
    "ai_generated_declared": ("🤖", "AI-generated (declared)"),
    # Detector outcomes: graded words, never a claim of proof either way (issue 11: a false "this is AI" on a
    # genuine photo is itself disinformation, and detectors cannot show that a file is authentic).
    "likely_synthetic": ("⚠", "Signs of AI generation"),
    "possibly_synthetic": ("△", "Uncertain: weak signs of AI generation"),  # a weaker warning than ⚠
    "likely_authentic": ("○", "No sign of AI generation found"),
    "authentic_provenance": ("✔", "Authentic provenance"),
    "inconclusive": ("?", "Inconclusive"),
}


def badge(label: str, lang: str = "en") -> tuple[str, str]:
    """A verdict label's symbol and its words in ``lang``, as the CLI table and the report show it."""
    symbol, english = LABEL_TEXT[label]
    return symbol, label_words(label, english, lang)


@dataclass(frozen=True)
class ReportItem:
    """One row of a report: a verdict, or the error that stopped the item."""

    source: str
    verdict: Verdict | None = None
    error: MediaError | None = None
    thumbnail_png: bytes | None = None


def _data_uri(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _env() -> Environment:
    env = html_environment(PackageLoader("civicshield.report", "templates"))
    env.filters["data_uri"] = _data_uri
    env.filters["pct"] = lambda v: "–" if v is None else f"{100 * float(v):.0f} %"
    env.tests["mapping"] = lambda v: isinstance(v, dict)
    env.tests["sequence"] = lambda v: isinstance(v, list | tuple)
    return env


def _item_context(item: ReportItem, lang: str = "en") -> dict[str, Any]:
    ctx: dict[str, Any] = {"source": item.source, "thumbnail": item.thumbnail_png, "error": None}
    if item.error is not None:
        ctx["error"] = {"code": item.error.code, "message": item.error.message}
        return ctx
    v = item.verdict
    if v is None:
        return ctx
    ctx["verdict"] = translated(v.to_dict(), lang)
    ctx["label"] = str(v.label)
    ctx["label_words"] = " ".join(badge(ctx["label"], lang))
    ctx["artefacts"] = {s.analyzer: s.artefacts for s in v.signals}
    return ctx


def render_html(items: Sequence[ReportItem], *, title: str = "CivicShield report", lang: str = "en") -> str:
    """The report; ``lang`` (en, nl, fr, de) translates each verdict's headline and reasons."""
    template = _env().get_template("report.html.j2")
    return template.render(
        title=title,
        items=[_item_context(i, lang) for i in items],
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )
