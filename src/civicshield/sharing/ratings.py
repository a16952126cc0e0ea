"""Reviewer ratings, their numeric ClaimReview scale and their wording in each supported language.

Fact-checkers publish a textual rating (``alternateName``, the part readers and the Google Fact Check
Explorer show) and, optionally, a number on a scale. The number only means something together with
``bestRating``/``worstRating``, so the scale is one named, versioned piece of data: change a value and the
version changes with it. On our 1-5 scale 1 means "the item is not what it claims to be" and 5 "it is";
ratings that say nothing about truth (satire is not a factual claim; unverifiable is no conclusion) sit in
the middle, at 3, so that no consumer reads them as either verdict.

Translations are a small table kept beside the scale: one short label and one summary sentence per rating
and language. A language without an entry is refused rather than silently published in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from civicshield.errors import UsageError

__all__ = [
    "RATING_SCALE",
    "SUPPORTED_LANGUAGES",
    "Rating",
    "RatingScale",
    "base_language",
    "rating_label",
    "rating_summary",
]


class Rating(StrEnum):
    """The reviewer's conclusion about an item. Values are stored, so never rename them."""

    FALSE = "false"
    MISLEADING = "misleading"
    MANIPULATED = "manipulated"
    SATIRE = "satire"
    AUTHENTIC = "authentic"
    UNVERIFIABLE = "unverifiable"

    @classmethod
    def parse(cls, text: str) -> Rating:
        """The rating named ``text`` (``UsageError`` naming the known ones otherwise)."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise UsageError(f"rating must be one of {', '.join(cls)}") from None

    @property
    def debunks(self) -> bool:
        """Whether the rating says the item is a fake or deceptive (what partners should match against)."""
        return self in (Rating.FALSE, Rating.MISLEADING, Rating.MANIPULATED)


@dataclass(frozen=True)
class RatingScale:
    version: str
    worst: int
    best: int
    values: MappingProxyType[Rating, int]

    def value(self, rating: Rating) -> int:
        return self.values[rating]


RATING_SCALE = RatingScale(
    version="civicshield-rating/1",
    worst=1,
    best=5,
    values=MappingProxyType(
        {
            Rating.FALSE: 1,
            Rating.MANIPULATED: 1,
            Rating.MISLEADING: 2,
            Rating.SATIRE: 3,
            Rating.UNVERIFIABLE: 3,
            Rating.AUTHENTIC: 5,
        }
    ),
)

_LABELS: dict[str, dict[Rating, str]] = {
    "en": {
        Rating.FALSE: "False",
        Rating.MISLEADING: "Misleading",
        Rating.MANIPULATED: "Manipulated",
        Rating.SATIRE: "Satire",
        Rating.AUTHENTIC: "Authentic",
        Rating.UNVERIFIABLE: "Unverifiable",
    },
    "nl": {
        Rating.FALSE: "Onwaar",
        Rating.MISLEADING: "Misleidend",
        Rating.MANIPULATED: "Gemanipuleerd",
        Rating.SATIRE: "Satire",
        Rating.AUTHENTIC: "Echt",
        Rating.UNVERIFIABLE: "Niet te verifiëren",
    },
    "fr": {
        Rating.FALSE: "Faux",
        Rating.MISLEADING: "Trompeur",
        Rating.MANIPULATED: "Manipulé",
        Rating.SATIRE: "Satire",
        Rating.AUTHENTIC: "Authentique",
        Rating.UNVERIFIABLE: "Invérifiable",
    },
    "de": {
        Rating.FALSE: "Falsch",
        Rating.MISLEADING: "Irreführend",
        Rating.MANIPULATED: "Manipuliert",
        Rating.SATIRE: "Satire",
        Rating.AUTHENTIC: "Echt",
        Rating.UNVERIFIABLE: "Nicht überprüfbar",
    },
}

_SUMMARIES: dict[str, dict[Rating, str]] = {
    "en": {
        Rating.FALSE: "This claim is false.",
        Rating.MISLEADING: "This claim is misleading: it distorts the facts or leaves out context.",
        Rating.MANIPULATED: "The media in this claim has been manipulated or synthetically generated.",
        Rating.SATIRE: "This content is satire, not a factual claim.",
        Rating.AUTHENTIC: "The media in this claim is authentic and has not been manipulated.",
        Rating.UNVERIFIABLE: "This claim could not be verified with the evidence available.",
    },
    "nl": {
        Rating.FALSE: "Deze bewering is onwaar.",
        Rating.MISLEADING: "Deze bewering is misleidend: ze vervormt de feiten of laat context weg.",
        Rating.MANIPULATED: "De media bij deze bewering zijn bewerkt of synthetisch gegenereerd.",
        Rating.SATIRE: "Deze inhoud is satire, geen feitelijke bewering.",
        Rating.AUTHENTIC: "De media bij deze bewering zijn echt en niet bewerkt.",
        Rating.UNVERIFIABLE: "Deze bewering kon met het beschikbare bewijs niet worden geverifieerd.",
    },
    "fr": {
        Rating.FALSE: "Cette affirmation est fausse.",
        Rating.MISLEADING: "Cette affirmation est trompeuse : elle déforme les faits ou omet le contexte.",
        Rating.MANIPULATED: "Les médias de cette affirmation ont été manipulés ou générés artificiellement.",
        Rating.SATIRE: "Ce contenu est satirique et ne constitue pas une affirmation factuelle.",
        Rating.AUTHENTIC: "Les médias de cette affirmation sont authentiques et n'ont pas été manipulés.",
        Rating.UNVERIFIABLE: "Cette affirmation n'a pas pu être vérifiée avec les éléments disponibles.",
    },
    "de": {
        Rating.FALSE: "Diese Behauptung ist falsch.",
        Rating.MISLEADING: "Diese Behauptung ist irreführend: Sie verzerrt Fakten oder lässt Kontext weg.",
        Rating.MANIPULATED: "Die Medien zu dieser Behauptung wurden manipuliert oder künstlich erzeugt.",
        Rating.SATIRE: "Dieser Inhalt ist Satire und keine Tatsachenbehauptung.",
        Rating.AUTHENTIC: "Die Medien zu dieser Behauptung sind echt und wurden nicht manipuliert.",
        Rating.UNVERIFIABLE: "Diese Behauptung konnte mit den verfügbaren Belegen nicht überprüft werden.",
    },
}

SUPPORTED_LANGUAGES: tuple[str, ...] = tuple(sorted(_LABELS))


def base_language(tag: str) -> str:
    """The primary subtag of a BCP 47 tag, lower-cased: ``fr-BE`` -> ``fr``; refused if not translated.

    >>> base_language("nl-BE")
    'nl'
    """
    base = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    if base not in _LABELS:
        raise UsageError(
            f"no rating translations for language {tag!r}; supported: {', '.join(SUPPORTED_LANGUAGES)}"
        )
    return base


def rating_label(rating: Rating, language: str) -> str:
    """The short textual rating (ClaimReview ``alternateName``) in ``language``."""
    return _LABELS[base_language(language)][rating]


def rating_summary(rating: Rating, language: str) -> str:
    """One sentence saying what the rating means, in ``language``."""
    return _SUMMARIES[base_language(language)][rating]
