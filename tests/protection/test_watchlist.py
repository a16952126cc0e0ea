"""Watchlist files: what they hold, and the clear errors a wrong one gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicshield.errors import UsageError
from civicshield.protection.names import find_names
from civicshield.protection.watchlist import ProtectedPerson, Watchlist

GOOD = """
[[person]]
name = "Anna de Vries"
aliases = ["A. de Vries", "Anna  de   Vries"]
organization = "Kiesraad"

[[domain]]
name = "Kiesraad.nl"
organization = "Kiesraad"

[[domain]]
name = "bücher.example"
"""


def test_a_watchlist_is_read_and_normalised(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text(GOOD, encoding="utf-8")
    watchlist = Watchlist.load(path)
    assert watchlist.people == (ProtectedPerson("Anna de Vries", ("A. de Vries",), "Kiesraad"),)
    assert [d.name for d in watchlist.domains] == ["kiesraad.nl", "xn--bcher-kva.example"]
    assert len(watchlist) == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[person]]\nname = 'Ann'\n", "names under 5 characters"),
        ("[[person]]\nname = ''\n", "name must be a non-empty string"),
        ("[[person]]\nname = 'Anna de Vries'\nphone = '1'\n", "unknown keys phone"),
        ("[[domain]]\nname = 'not a domain'\n", "is not a domain name"),
        ("[[domain]]\nname = 'localhost'\n", "is not a domain name"),
        ("[[people]]\nname = 'Anna de Vries'\n", "unknown sections people"),
        ("person = 'Anna'\n", "[[person]] must be a list of tables"),
        ("[[person]\nname = 'x'", "cannot read watchlist"),
    ],
)
def test_a_wrong_watchlist_is_refused_with_the_entry_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        Watchlist.load(path)
    assert message in caught.value.message and str(path) in caught.value.message


def test_names_are_found_whatever_the_case_accents_and_punctuation() -> None:
    anna = ProtectedPerson("Anna de Vries", ("A. de Vries",))
    texts = [
        ("file name", "ANNA_de-vries_speech.mp4"),
        ("xmp:dc:creator", "Annabel de Vriesland"),  # other words: no match
    ]
    (hit,) = find_names([anna], texts)
    assert (hit.name, hit.where) == ("Anna de Vries", "file name")
    (hit,) = find_names([anna], [("exif:Artist", "Foto: A. dé Vries")])
    assert hit.name == "A. de Vries"
    assert find_names([anna], [("exif:Artist", "Annabel de Vriesland")]) == []
