"""Colour contrast of the interface's palette (WCAG 2.1 AA: 4.5:1 for text); no colour-only labels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civicshield.service.pages import labels

CSS = Path(labels.__file__).parent / "static" / "ui.css"


def palette() -> dict[str, str]:
    root = re.search(r":root\s*{([^}]*)}", CSS.read_text())
    assert root
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", root.group(1)))


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


TEXT_ON_PAGE = ["fg", "muted", "link", "bad", "warn", "good", "neutral", "primary", "danger"]


@pytest.mark.parametrize("background", ["bg", "soft"])
@pytest.mark.parametrize("foreground", TEXT_ON_PAGE)
def test_text_colours_reach_aa_contrast(foreground: str, background: str) -> None:
    colours = palette()
    assert contrast(colours[foreground], colours[background]) >= 4.5


def test_header_buttons_and_tlp_labels_reach_aa_contrast() -> None:
    colours = palette()
    assert contrast(colours["bar-fg"], colours["bar"]) >= 4.5
    assert contrast(colours["primary-fg"], colours["primary"]) >= 4.5
    for tlp_colour in ("#ffffff", "#33ff00", "#ffc000", "#ff2b2b"):  # FIRST TLP 2.0 colours on black
        assert contrast(tlp_colour, "#000000") >= 4.5
        assert tlp_colour in CSS.read_text()


def test_every_status_has_a_symbol_and_words() -> None:
    for label in labels.VERDICT_WORDS:
        assert labels.verdict_symbol(label) not in {"", "?"} or label == "inconclusive", label
        assert label in labels.VERDICT_TONE
    assert set(labels.CASE_SYMBOLS) == set(labels.CASE_STATES)
    assert set(labels.JOB_SYMBOLS) == set(labels.JOB_STATES)
