"""Languages: the catalogues cover every message, placeholders survive translation, negotiation works."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from civicshield.service.pages import i18n

UI_DIR = Path(i18n.__file__).parent
METHODS = [("templates/**.j2", "jinja2"), ("**.py", "python")]
OPTIONS = {
    "templates/**.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}
}
KEYWORDS = {"_": None, "gettext": None, "N_": None, "translate": (2,)}
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def source_messages() -> set[str]:
    found = extract_from_dir(str(UI_DIR), METHODS, OPTIONS, keywords=KEYWORDS)
    return {str(message) for _, _, message, _, _ in found if isinstance(message, str) and message}


@pytest.mark.parametrize("lang", ["nl", "fr"])
def test_catalogue_translates_every_message(lang: str) -> None:
    with (UI_DIR / "locale" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    wanted = source_messages()
    assert {
        "Known fake",
        "Wrong email, password or code.",
        "Skip to main content",
    } <= wanted  # python, translate(), jinja
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(wanted - set(translated))
    assert missing == [], f"run scripts/update-catalogues.sh and translate: {missing[:10]}"
    for msgid, text in translated.items():
        assert sorted(PLACEHOLDER.findall(str(msgid))) == sorted(PLACEHOLDER.findall(str(text))), msgid


def test_catalogues_compile_in_memory() -> None:
    assert i18n.gettext("nl", "Known fake") == "Bekende vervalsing"
    assert i18n.gettext("fr", "Known fake") == "Faux connu"
    assert i18n.gettext("en", "Known fake") == "Known fake"


def test_accept_language_negotiation() -> None:
    assert i18n.from_accept_language("de-DE,de;q=0.9,fr;q=0.8,en;q=0.5") == "fr"
    assert i18n.from_accept_language("nl-BE") == "nl"
    assert i18n.from_accept_language("fr;q=0, en;q=0.1") == "en"
    assert i18n.from_accept_language("ja, zh") is None
    assert i18n.supported("FR_be") == "fr" and i18n.supported("xx") is None


def test_dates_and_numbers_follow_the_language() -> None:
    moment = dt.datetime(2026, 6, 9, 14, 5, tzinfo=dt.UTC)
    assert "juin" in i18n.Formats("fr").datetime(moment)
    assert "jun" in i18n.Formats("nl").date(moment)
    assert i18n.Formats("en").number(1234567) == "1,234,567"
    assert i18n.Formats("nl").number(1234567) == "1.234.567"
    assert i18n.Formats("fr").filesize(26_400) == "26,4 kB"
    assert i18n.Formats("en").percent(0.85) == "85%"
