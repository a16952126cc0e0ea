"""Tables of names: generators, editors, AI labels and the IPTC digital source type vocabulary.

Names are matched only in fields whose role is to name software (``Software``, ``CreatorTool``, an ``encoder``
tag), never in captions or descriptions: a news photo captioned "not made with Midjourney" is not a trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "AI_SOURCE_TYPES",
    "CAPTURE_SOURCE_TYPES",
    "EDIT_SOURCE_TYPES",
    "NamePattern",
    "ai_label",
    "editors_in",
    "generators_in",
    "source_type_term",
    "source_type_uris_in",
]


@dataclass(frozen=True)
class NamePattern:
    label: str
    pattern: re.Pattern[str]

    def found_in(self, text: str) -> bool:
        return self.pattern.search(text) is not None


def _p(label: str, regex: str) -> NamePattern:
    return NamePattern(label, re.compile(regex, re.IGNORECASE))


GENERATORS: tuple[NamePattern, ...] = (
    _p(
        "Stable Diffusion",
        r"stable[ _-]?diffusion|\bsdxl\b|automatic1111|\bsd[ _-]?(?:1\.5|2\.1|3(?:\.5)?)\b",
    ),
    _p("ComfyUI", r"comfy ?ui"),
    _p("InvokeAI", r"invoke[ -]?ai"),
    _p("NovelAI", r"novel ?ai"),
    _p("Fooocus", r"fooocus"),
    _p("Midjourney", r"mid ?journey"),
    _p("DALL·E", r"\bdall\W{0,3}e\b|\bdalle\b"),  # non-ASCII "·" arrives mangled in EXIF ASCII
    _p("OpenAI", r"\bopenai\b|\bchatgpt\b|\bgpt-image\b|\bsora\b"),
    _p("Adobe Firefly", r"\bfirefly\b"),
    _p("Google Imagen / Gemini", r"\bimagen\b|\bgemini\b|\bnano banana\b|\bveo ?\d?\b"),
    _p("FLUX (Black Forest Labs)", r"\bflux(?:\.1)?\b|black forest labs"),
    _p("Ideogram", r"\bideogram\b"),
    _p("Leonardo.Ai", r"\bleonardo(?:\.ai| ai)?\b"),
    _p("Stability AI", r"stability[ .]?ai|dreamstudio"),
    _p(
        "Microsoft Designer / Bing Image Creator", r"bing image creator|microsoft designer|image creator from"
    ),
    _p("Runway", r"\brunway ?(?:ml|gen-?\d)\b"),
    _p("Kling", r"\bkling(?: ?ai)?\b"),
    _p("Luma Dream Machine", r"\bluma ai\b|dream machine"),
    _p("Recraft", r"\brecraft\b"),
    _p("Playground", r"playground ?(?:ai|v\d)"),
    _p("NightCafe", r"nightcafe"),
    _p("Draw Things", r"draw ?things"),
    _p("DiffusionBee", r"diffusion ?bee"),
    _p("Grok / Aurora", r"\bgrok\b|\bxai aurora\b"),
)

EDITORS: tuple[NamePattern, ...] = (
    _p("Adobe Photoshop", r"photoshop"),
    _p("Adobe Lightroom", r"lightroom"),
    _p("Adobe Camera Raw", r"camera raw"),
    _p("Adobe Express", r"adobe express"),
    _p("Adobe Premiere / After Effects", r"premiere|after effects"),
    _p("GIMP", r"\bgimp\b"),
    _p("Snapseed", r"snapseed"),
    _p("Canva", r"\bcanva\b"),
    _p("Affinity Photo", r"affinity"),
    _p("Pixelmator", r"pixelmator"),
    _p("Capture One", r"capture one"),
    _p("darktable / RawTherapee", r"darktable|rawtherapee"),
    _p("Paint.NET", r"paint\.net"),
    _p("PicsArt", r"picsart"),
    _p("Facetune", r"facetune"),
    _p("Meitu", r"\bmeitu\b"),
    _p("VSCO", r"\bvsco\b"),
    _p("Luminar", r"\bluminar\b"),
    _p("Krita", r"\bkrita\b"),
    _p("Photopea", r"photopea"),
    _p("Fotor", r"\bfotor\b"),
    _p("CapCut", r"capcut"),
    _p("DaVinci Resolve", r"davinci resolve"),
    _p("Final Cut / iMovie", r"final cut|\bimovie\b"),
    _p("InShot", r"\binshot\b"),
)

# Phrases platforms put in credit lines to label generated media (Google: "Made with Google AI").
_AI_LABEL = re.compile(
    r"\b(?:ai[ -]generated|generated (?:with|by) ai|made with [\w .]*\bai\b|created with ai)\b", re.IGNORECASE
)
_NEGATION = re.compile(r"\b(?:not|no|non|without)\b", re.IGNORECASE)

# IPTC NewsCodes digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/), lower-cased.
AI_SOURCE_TYPES = frozenset(
    {
        "trainedalgorithmicmedia",
        "compositewithtrainedalgorithmicmedia",
        "algorithmicmedia",
        "compositesynthetic",
    }
)
CAPTURE_SOURCE_TYPES = frozenset(
    {"digitalcapture", "computationalcapture", "negativefilm", "positivefilm", "print"}
)
EDIT_SOURCE_TYPES = frozenset(
    {"humanedits", "minorhumanedits", "algorithmicallyenhanced", "composite", "compositecapture"}
)
_SOURCE_TYPE_URI = re.compile(
    r"(?:cv\.iptc\.org/newscodes/digitalsourcetype|c2pa\.org/digitalsourcetype)/(\w+)", re.IGNORECASE
)


def generators_in(text: str) -> list[str]:
    return [g.label for g in GENERATORS if g.found_in(text)]


def editors_in(text: str) -> list[str]:
    return [e.label for e in EDITORS if e.found_in(text)]


def ai_label(text: str) -> bool:
    """A short credit line that labels the media as AI-made (and does not negate it)."""
    return len(text) <= 120 and _AI_LABEL.search(text) is not None and _NEGATION.search(text) is None


def source_type_term(value: str) -> str | None:
    """The vocabulary term of a digital source type value: a NewsCodes URI or a bare term, any case."""
    match = _SOURCE_TYPE_URI.search(value)
    term = match.group(1) if match else value.strip().rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return term if re.fullmatch(r"[A-Za-z]{3,60}", term) else None


def source_type_uris_in(text: str) -> list[str]:
    """Digital source type URIs written anywhere (a caption, a container tag), not only in the IPTC field."""
    return [m.group(1) for m in _SOURCE_TYPE_URI.finditer(text[:100_000])]
