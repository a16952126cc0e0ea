"""An awareness kit built from the coalition's own public debunks: a short briefing and a quiz, in four
languages (issue 12).

What people remember from a training is what they practised on real cases, and the coalition has real
cases: every published TLP:CLEAR fact-check. ``briefing`` lists the recent ones with what to do when a fake
of the same kind reaches you; ``quiz`` turns them into questions ("someone shares this: what did the
fact-checkers find?"), with the fact-check's own rating as the answer and three other ratings as choices
(authentic and unverifiable among them, so the quiz never teaches "everything is fake"). ``grade`` scores
answers against the ratings as published. Pure functions: the service supplies the debunks (only public
ones) and keeps the attempts.
"""

from __future__ import annotations

import datetime as dt
import random
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from civicshield.errors import UsageError
from civicshield.protection.guidance import LANGUAGES
from civicshield.sharing.ratings import Rating, rating_label, rating_summary

__all__ = ["Briefing", "Debunk", "Question", "briefing", "grade", "quiz"]

#: Fewer public fact-checks than this make a quiz that teaches nothing (the same two questions).
MIN_DEBUNKS = 3


@cache
def _texts() -> dict[str, dict[str, str]]:
    raw = resources.files("civicshield").joinpath("data/guidance/awareness.toml").read_text(encoding="utf-8")
    return {lang: dict(texts) for lang, texts in tomllib.loads(raw).items()}


@dataclass(frozen=True)
class Debunk:
    """A published, public (TLP:CLEAR) fact-check: the claim as it circulated and the rating it got."""

    key: str  # stable id (the fact-check's slug)
    claim: str
    title: str
    rating: Rating
    url: str
    publisher: str
    published: dt.date


@dataclass(frozen=True)
class Question:
    key: str
    prompt: str
    choices: tuple[tuple[str, str], ...]  # (rating value, label in the quiz's language)
    answer: str  # the published rating's value
    explanation: str
    url: str


@dataclass(frozen=True)
class Briefing:
    lang: str
    title: str
    intro: str
    items: tuple[tuple[Debunk, str], ...]  # each debunk with its rating's label
    tips: tuple[str, ...]


def _lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise UsageError(f"language must be one of {', '.join(LANGUAGES)}")
    return lang


def briefing(debunks: Sequence[Debunk], lang: str, *, limit: int = 10) -> Briefing:
    text = _texts()[_lang(lang)]
    recent = sorted(debunks, key=lambda d: d.published, reverse=True)[:limit]
    return Briefing(
        lang,
        text["title"],
        text["intro"],
        tuple((d, rating_label(d.rating, lang)) for d in recent),
        (text["tip1"], text["tip2"], text["tip3"]),
    )


def quiz(debunks: Sequence[Debunk], lang: str, *, size: int = 5, seed: int = 0) -> tuple[Question, ...]:
    """Up to ``size`` questions from ``debunks`` (``UsageError`` with fewer than ``MIN_DEBUNKS``)."""
    _lang(lang)
    usable = [d for d in debunks if d.claim.strip() or d.title.strip()]
    if len(usable) < MIN_DEBUNKS:
        raise UsageError(
            f"a quiz needs at least {MIN_DEBUNKS} public fact-checks; the coalition has {len(usable)}"
        )
    rng = random.Random(seed)  # noqa: S311 - a reproducible order of questions, not a secret
    chosen = rng.sample(usable, min(size, len(usable)))
    questions = []
    for d in chosen:
        others = [
            r
            for r in (
                Rating.AUTHENTIC,
                Rating.FALSE,
                Rating.MANIPULATED,
                Rating.MISLEADING,
                Rating.UNVERIFIABLE,
                Rating.SATIRE,
            )
            if r is not d.rating
        ]
        picks = [d.rating, *rng.sample(others, 3)]
        rng.shuffle(picks)
        claim = " ".join((d.claim or d.title).split())[:300]
        questions.append(
            Question(
                d.key,
                _texts()[lang]["prompt"].format(claim=claim),
                tuple((r.value, rating_label(r, lang)) for r in picks),
                d.rating.value,
                rating_summary(d.rating, lang),
                d.url,
            )
        )
    return tuple(questions)


def grade(questions: Sequence[Question], answers: Mapping[str, str]) -> tuple[int, int]:
    """``(right, asked)``: answers are keyed by question key; a missing answer counts as wrong."""
    right = sum(1 for q in questions if answers.get(q.key) == q.answer)
    return right, len(questions)
