from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from civicshield.errors import UsageError
from civicshield.sharing import (
    RATING_SCALE,
    SUPPORTED_LANGUAGES,
    FactCheck,
    Rating,
    claimreview,
    validate_claimreview,
)
from tests.sharing.factories import VIDEO_SHA256, make_fact_check

REQUIRED = ["claimReviewed", "reviewRating", "url"]


def _load(testdata: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((testdata / "claimreview" / name).read_text())
    return data


@pytest.mark.parametrize("language", ["en", "nl", "fr", "de", "fr-BE"])
@pytest.mark.parametrize("rating", list(Rating))
def test_generated_documents_have_every_required_and_recommended_property(
    language: str, rating: Rating
) -> None:
    doc = claimreview(make_fact_check(rating=rating), language=language)
    assert validate_claimreview(doc) == []
    assert doc["inLanguage"] == language
    json.dumps(doc)


@pytest.mark.parametrize(
    ("language", "label", "summary_starts"),
    [
        ("en", "Manipulated", "The media in this claim has been manipulated"),
        ("nl", "Gemanipuleerd", "De media bij deze bewering zijn bewerkt"),
        ("fr", "Manipulé", "Les médias de cette affirmation ont été manipulés"),
        ("de", "Manipuliert", "Die Medien zu dieser Behauptung wurden manipuliert"),
    ],
)
def test_rating_label_and_summary_are_translated(
    fact_check: FactCheck, language: str, label: str, summary_starts: str
) -> None:
    doc = claimreview(fact_check, language=language)
    assert doc["reviewRating"]["alternateName"] == label
    assert doc["reviewRating"]["name"] == label
    assert doc["reviewBody"].startswith(summary_starts)
    assert doc["claimReviewed"] == fact_check.claim  # claims are not machine-translated


def test_every_rating_has_every_translation() -> None:
    labels = {
        (lang, r): claimreview(make_fact_check(rating=r), language=lang)["reviewRating"]["alternateName"]
        for lang in SUPPORTED_LANGUAGES
        for r in Rating
    }
    assert len(labels) == len(SUPPORTED_LANGUAGES) * len(Rating)
    assert {"en", "nl", "fr"} <= set(SUPPORTED_LANGUAGES)
    for lang in SUPPORTED_LANGUAGES:  # within one language, distinct ratings read differently...
        values = [labels[(lang, r)] for r in Rating]
        assert len(set(values)) == len(values), lang


def test_untranslated_language_is_refused(fact_check: FactCheck) -> None:
    with pytest.raises(UsageError, match="no rating translations"):
        claimreview(fact_check, language="pl")


def test_rating_numbers_come_from_the_versioned_scale(fact_check: FactCheck) -> None:
    rating = claimreview(fact_check)["reviewRating"]
    assert (rating["worstRating"], rating["ratingValue"], rating["bestRating"]) == (1, 1, 5)
    assert RATING_SCALE.version == "civicshield-rating/1"
    assert claimreview(make_fact_check(rating=Rating.AUTHENTIC))["reviewRating"]["ratingValue"] == 5


def test_reviewed_media_is_an_appearance_with_its_sha256(fact_check: FactCheck) -> None:
    item = claimreview(fact_check)["itemReviewed"]
    assert item["@type"] == "Claim"
    assert item["author"] == {"@type": "Person", "name": "@election_news_now"}
    assert item["datePublished"] == "2024-05-01"
    assert item["firstAppearance"] == {"@type": "CreativeWork", "url": "https://social.example/p/1"}
    video = next(a for a in item["appearance"] if a["@type"] == "VideoObject")
    assert video == {
        "@type": "VideoObject",
        "name": "minister.mp4",
        "contentUrl": "https://cdn.example.org/evidence/minister.mp4",
        "encodingFormat": "video/mp4",
        "sha256": VIDEO_SHA256,
    }
    assert {a["@type"] for a in item["appearance"]} == {
        "CreativeWork",
        "VideoObject",
        "ImageObject",
        "AudioObject",
    }


def test_a_written_summary_is_used_in_its_own_language_only() -> None:
    fact_check = make_fact_check(
        summary="Een deepfake: de minister zei dit nooit.", headline="Deepfake minister"
    )
    assert claimreview(fact_check)["reviewBody"] == "Een deepfake: de minister zei dit nooit."
    assert claimreview(fact_check)["headline"] == "Deepfake minister"
    assert claimreview(fact_check, language="fr")["reviewBody"].startswith("Les médias")
    assert "headline" not in claimreview(fact_check, language="fr")


@pytest.mark.parametrize("prop", REQUIRED)
def test_removing_a_required_property_is_reported(fact_check: FactCheck, prop: str) -> None:
    doc = claimreview(fact_check)
    del doc[prop]
    problems = validate_claimreview(doc)
    assert any(p.startswith("required: ") and prop in p for p in problems), problems


def test_removing_the_textual_rating_is_reported(fact_check: FactCheck) -> None:
    doc = claimreview(fact_check)
    del doc["reviewRating"]["alternateName"]
    assert validate_claimreview(doc) == ["required: reviewRating.alternateName is missing"]


def test_removing_a_recommended_property_is_reported(fact_check: FactCheck) -> None:
    doc = claimreview(fact_check)
    del doc["itemReviewed"]["firstAppearance"]
    doc["reviewRating"]["ratingValue"] = 9
    assert validate_claimreview(doc) == [
        "recommended: itemReviewed.firstAppearance is missing",
        "recommended: reviewRating.ratingValue 9 is outside [1, 5]",
    ]
    assert validate_claimreview(doc, recommended=False) == []


def test_the_google_world_is_flat_example_lacks_only_recommended_properties(testdata: Path) -> None:
    doc = _load(testdata, "schemaorg_danbri_worldisflat_ClaimReview.jsonld")
    assert validate_claimreview(doc) == [
        "recommended: itemReviewed.firstAppearance is missing",
        "recommended: reviewRating.name is missing",
    ]
    assert validate_claimreview(doc, recommended=False) == []


def test_the_2017_proposal_example_lacks_the_textual_rating(testdata: Path) -> None:
    # The original PolitiFact example predates Claim and Google's alternateName requirement.
    doc = _load(testdata, "schemaorg_issue-1061_ClaimReview_example.jsonld")
    assert validate_claimreview(doc) == [
        "required: reviewRating.alternateName is missing",
        "recommended: author.name is missing",
        "recommended: itemReviewed should be a Claim, got CreativeWork",
        "recommended: itemReviewed.appearance is missing",
        "recommended: itemReviewed.firstAppearance is missing",
        "recommended: reviewRating.name is missing",
        "recommended: reviewRating.worstRating is missing or not a number",
    ]


def test_garbage_is_reported_not_raised() -> None:
    problems = validate_claimreview({"@type": 5, "reviewRating": "False", "url": "not a url"})
    assert problems[:5] == [
        "required: @context must be schema.org",
        "required: @type must include ClaimReview",
        "required: claimReviewed is missing or empty",
        "required: url is missing or not an http(s) URL",
        "required: reviewRating is missing or not an object",
    ]


def test_generation_does_not_share_state(fact_check: FactCheck) -> None:
    first = claimreview(fact_check)
    snapshot = copy.deepcopy(first)
    first["itemReviewed"]["appearance"].clear()
    assert claimreview(fact_check) == snapshot
