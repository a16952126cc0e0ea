"""Languages of the web interface: Babel catalogues, language choice, localized dates and numbers.

The ``.po`` files under ``locale/`` are the only source of translations. They are compiled in memory the
first time a language is used (Babel's ``write_mo`` into a buffer), so there is no build step and no
compiled ``.mo`` file that can go stale next to its ``.po``. ``scripts/update-catalogues.sh`` re-extracts
the messages from the templates and Python code and merges them into the catalogues.

Which language a request gets, first match wins: ``?lang=`` on the URL, the language kept in the session
(copied from ``users.language`` at login, or chosen on a public page), the browser's ``Accept-Language``,
English.
"""

from __future__ import annotations

import datetime as dt
import io
from functools import lru_cache
from pathlib import Path

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import Request

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"
#: Language code → its name in that language (a language menu shows each name in its own language).
LANGUAGES: dict[str, str] = {"en": "English", "nl": "Nederlands", "fr": "Français"}
SESSION_KEY = "lang"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (it is translated when shown)."""
    return message


def supported(code: str | None) -> str | None:
    code = (code or "").strip().lower()[:5].replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of ``lang`` (English is the source language: no catalogue)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == DEFAULT or not po.is_file():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


def from_accept_language(header: str) -> str | None:
    """The best supported language of an ``Accept-Language`` header (quality values respected)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        lang = supported(code)
        if lang and quality > 0:
            ranked.append((-quality, index, lang))
    return min(ranked)[2] if ranked else None


def request_language(request: Request) -> str:
    chosen = supported(request.query_params.get("lang"))
    if chosen:
        return chosen
    return (
        (supported(request.session.get(SESSION_KEY)) if "session" in request.scope else None)
        or from_accept_language(request.headers.get("accept-language", ""))
        or DEFAULT
    )


class Formats:
    """Dates, numbers and sizes written the way readers of one language expect (Babel's CLDR data)."""

    def __init__(self, lang: str) -> None:
        self.locale = Locale.parse(lang)

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return "–"
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return dates.format_datetime(value, "medium", tzinfo=dt.UTC, locale=self.locale) + " UTC"

    def date(self, value: dt.datetime | dt.date | None) -> str:
        return "–" if value is None else dates.format_date(value, "long", locale=self.locale)

    def number(self, value: float | int | None) -> str:
        return "–" if value is None else numbers.format_decimal(value, locale=self.locale)

    def percent(self, value: float | None) -> str:
        return "–" if value is None else numbers.format_percent(float(value), locale=self.locale)

    def filesize(self, size: int | None) -> str:
        if size is None:
            return "–"
        for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
            if size >= scale:
                return f"{numbers.format_decimal(round(size / scale, 1), locale=self.locale)} {unit}"
        return f"{numbers.format_decimal(size, locale=self.locale)} B"
