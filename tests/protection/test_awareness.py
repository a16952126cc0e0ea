"""The awareness kit from public debunks: questions answered by the published rating, choices that include
"authentic", four languages, and a refusal when there is too little to build a quiz from."""

from __future__ import annotations

import datetime as dt

import pytest

from civicshield.errors import UsageError
from civicshield.protection.awareness import Debunk, briefing, grade, quiz
from civicshield.sharing.ratings import Rating


def _debunks() -> list[Debunk]:
    day = dt.date(2026, 11, 1)
    return [
        Debunk("a", "Voting by SMS is allowed", "SMS voting", Rating.FALSE, "https://x/a", "Factcheck", day),
        Debunk("b", "Ballots in a river", "River", Rating.MANIPULATED, "https://x/b", "Factcheck", day),
        Debunk("c", "The minister at the rally", "Rally", Rating.AUTHENTIC, "https://x/c", "Newsroom", day),
    ]


def test_each_question_offers_the_published_rating_among_four_distinct_choices() -> None:
    for lang in ("en", "nl", "fr", "de"):
        for q in quiz(_debunks(), lang, seed=7):
            values = [v for v, _ in q.choices]
            assert len(set(values)) == 4 and q.answer in values
    questions = quiz(_debunks(), "en")
    by_key = {q.key: q for q in questions}
    assert by_key["c"].answer == "authentic"  # a genuine item is a question too, not only fakes
    assert grade(questions, {"a": "false", "b": "false", "c": "authentic"}) == (2, 3)
    assert grade(questions, {}) == (0, 3)


def test_too_few_public_debunks_make_no_quiz_and_languages_are_checked() -> None:
    with pytest.raises(UsageError, match="at least 3"):
        quiz(_debunks()[:2], "en")
    with pytest.raises(UsageError, match="language"):
        quiz(_debunks(), "es")


def test_the_briefing_lists_the_latest_with_their_rating_in_the_language() -> None:
    made = briefing(_debunks(), "nl")
    assert made.title.startswith("Bewustwordingsbriefing") and len(made.tips) == 3
    assert [label for _, label in made.items] == ["Onwaar", "Gemanipuleerd", "Echt"]
