"""schema.org ClaimReview JSON-LD for a published fact-check, and a checker for any ClaimReview.

ClaimReview is what search engines, the Google Fact Check Explorer and fact-check aggregators read. Google
requires ``claimReviewed``, ``reviewRating`` (with ``alternateName``) and ``url``; it recommends ``author``,
``datePublished``, an ``itemReviewed`` Claim (``appearance``, ``author``, ``datePublished``,
``firstAppearance``) and the rating's ``bestRating``/``name``/``ratingValue``/``worstRating``. We emit all of
them when the fact-check knows them. The reviewed media goes in ``itemReviewed.appearance`` as an
ImageObject / VideoObject / AudioObject carrying ``contentUrl`` and schema.org's ``sha256``, so a reader can
tell which exact file was reviewed.

The same fact-check can be rendered in each language of the translations table (`ratings`): the rating
label and summary change, the claim text stays as written (we do not machine-translate claims).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from civicshield.sharing._ids import iso_timestamp
from civicshield.sharing.model import FactCheck, MediaItem, MediaKind, Party
from civicshield.sharing.ratings import RATING_SCALE, base_language, rating_label, rating_summary

__all__ = ["claimreview", "validate_claimreview"]

_Report = Callable[[bool, str], None]
_MEDIA_TYPES = {
    MediaKind.IMAGE: "ImageObject",
    MediaKind.VIDEO: "VideoObject",
    MediaKind.AUDIO: "AudioObject",
}


def claimreview(fact_check: FactCheck, *, language: str | None = None) -> dict[str, Any]:
    """The ClaimReview JSON-LD document (a plain dict, ready for ``json.dumps``).

    ``language`` picks the translation of the rating label and summary (default: the fact-check's own);
    an untranslated language raises ``UsageError``. A ``summary`` written by the reviewer wins over the
    stock sentence, but only in the fact-check's own language.
    """
    lang = language or fact_check.language
    base = base_language(lang)
    label = rating_label(fact_check.rating, base)
    own_language = base == base_language(fact_check.language)
    summary = (
        fact_check.summary if fact_check.summary and own_language else rating_summary(fact_check.rating, base)
    )
    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": fact_check.url,
        "claimReviewed": fact_check.claim,
        "datePublished": fact_check.date_published.date().isoformat(),
        "inLanguage": lang,
        "author": _party(fact_check.reviewer),
        "publisher": _party(fact_check.publisher),
        "reviewBody": summary,
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": RATING_SCALE.value(fact_check.rating),
            "bestRating": RATING_SCALE.best,
            "worstRating": RATING_SCALE.worst,
            "alternateName": label,
            "name": label,
        },
        "itemReviewed": _claim(fact_check),
    }
    if fact_check.date_modified is not None:
        doc["dateModified"] = iso_timestamp(fact_check.date_modified)
    if fact_check.headline and own_language:
        doc["headline"] = fact_check.headline
    return doc


def _party(party: Party) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": str(party.kind), "name": party.name}
    if party.url:
        out["url"] = party.url
    if party.same_as:
        out["sameAs"] = list(party.same_as)
    if party.logo_url:
        out["logo"] = {"@type": "ImageObject", "url": party.logo_url}
    return out


def _claim(fact_check: FactCheck) -> dict[str, Any]:
    claim: dict[str, Any] = {"@type": "Claim"}
    if fact_check.claim_author is not None:
        claim["author"] = _party(fact_check.claim_author)
    if fact_check.claim_date is not None:
        claim["datePublished"] = fact_check.claim_date.date().isoformat()
    appearances: list[dict[str, Any]] = [{"@type": "CreativeWork", "url": u} for u in fact_check.appearances]
    appearances += [_media_object(item) for item in fact_check.media]
    if appearances:
        claim["appearance"] = appearances
    if fact_check.first_appearance:
        claim["firstAppearance"] = {"@type": "CreativeWork", "url": fact_check.first_appearance}
    return claim


def _media_object(item: MediaItem) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": _MEDIA_TYPES[item.kind]}
    if item.name:
        out["name"] = item.name
    if item.content_url:
        out["contentUrl"] = item.content_url
    if item.encoding_format:
        out["encodingFormat"] = item.encoding_format
    if item.sha256:
        out["sha256"] = item.sha256
    return out


def validate_claimreview(doc: Mapping[str, Any], *, recommended: bool = True) -> list[str]:
    """Problems with a ClaimReview document, as ``"required: ..."`` and ``"recommended: ..."`` lines.

    Checks the properties Google requires and recommends (see the module docstring); an empty list means
    it has them all. ``recommended=False`` keeps only the problems that make the markup unusable.
    """
    problems: list[str] = []

    def need(ok: bool, message: str) -> None:
        if not ok:
            problems.append(f"required: {message}")

    def want(ok: bool, message: str) -> None:
        if not ok and recommended:
            problems.append(f"recommended: {message}")

    need("schema.org" in str(doc.get("@context", "")), "@context must be schema.org")
    need("ClaimReview" in _types(doc), "@type must include ClaimReview")
    need(_text(doc.get("claimReviewed")), "claimReviewed is missing or empty")
    need(_is_url(doc.get("url")), "url is missing or not an http(s) URL")
    rating = doc.get("reviewRating")
    need(isinstance(rating, Mapping), "reviewRating is missing or not an object")
    rating = rating if isinstance(rating, Mapping) else {}
    need(_text(rating.get("alternateName")), "reviewRating.alternateName is missing")
    author = doc.get("author")
    want(isinstance(author, Mapping), "author is missing")
    if isinstance(author, Mapping):
        want(_text(author.get("name")), "author.name is missing")
    want(_is_date(doc.get("datePublished")), "datePublished is missing or not an ISO 8601 date")
    _check_item(doc.get("itemReviewed"), want)
    _check_rating_numbers(rating, want)
    return problems


def _check_item(item: Any, want: _Report) -> None:
    want(isinstance(item, Mapping), "itemReviewed is missing")
    if not isinstance(item, Mapping):
        return
    types = _types(item)
    want("Claim" in types, f"itemReviewed should be a Claim, got {'/'.join(types) or 'no @type'}")
    want(bool(item.get("appearance")), "itemReviewed.appearance is missing")
    want(isinstance(item.get("author"), Mapping), "itemReviewed.author is missing")
    want(_is_date(item.get("datePublished")), "itemReviewed.datePublished is missing or not an ISO 8601 date")
    want(bool(item.get("firstAppearance")), "itemReviewed.firstAppearance is missing")


def _check_rating_numbers(rating: Mapping[str, Any], want: _Report) -> None:
    want(_text(rating.get("name")), "reviewRating.name is missing")
    numbers = {k: _number(rating.get(k)) for k in ("ratingValue", "bestRating", "worstRating")}
    for key, value in numbers.items():
        want(value is not None, f"reviewRating.{key} is missing or not a number")
    value, best, worst = numbers["ratingValue"], numbers["bestRating"], numbers["worstRating"]
    if value is not None and best is not None and worst is not None:
        want(worst <= value <= best, f"reviewRating.ratingValue {value:g} is outside [{worst:g}, {best:g}]")


def _types(node: Mapping[str, Any]) -> list[str]:
    kind = node.get("@type")
    if isinstance(kind, str):
        return [kind]
    return [k for k in kind if isinstance(k, str)] if isinstance(kind, list) else []


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://")) and len(value) > 8


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) < 10:
        return False
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
