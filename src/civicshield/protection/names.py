"""Protected people's names in free text (file names, metadata, credentials, claims).

Comparison ignores case, accents and punctuation between words (``Anna de Vries``, ``ANNA DE VRIES``,
``anna_de-vries.jpg``, ``Anna dé Vries`` all match), and needs whole words, so ``Annabel`` is not ``Anna``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from civicshield.protection.watchlist import ProtectedPerson

__all__ = ["NameHit", "find_names", "fold"]

MAX_TEXT_CHARS = 200_000


@dataclass(frozen=True)
class NameHit:
    person: ProtectedPerson
    name: str  # the name or alias that matched
    where: str  # which text it was found in, e.g. "file name", "EXIF Artist"


def fold(text: str) -> str:
    """Lower case, accents removed, every run of non-letters and non-digits one space."""
    decomposed = unicodedata.normalize("NFKD", text[:MAX_TEXT_CHARS].casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.split(r"[\W_]+", bare)).strip()


def find_names(people: Iterable[ProtectedPerson], texts: Iterable[tuple[str, str]]) -> list[NameHit]:
    """Each protected person named in any of ``texts`` (``(where, text)`` pairs), once, first place first."""
    folded = [(where, f" {fold(text)} ") for where, text in texts if text]
    hits = []
    for person in people:
        for name in person.names:
            needle = f" {fold(name)} "
            where = next((w for w, text in folded if needle in text), None)
            if where is not None:
                hits.append(NameHit(person, name, where))
                break
    return hits
