"""The awareness kit in the service (issue 12): the coalition's public debunks as a briefing and a quiz,
and members' quiz results per organization. Only published TLP:CLEAR fact-checks are used: a quiz shown to
every member must never carry a restricted case."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.errors import Forbidden, UsageError
from civicshield.protection.awareness import Debunk, Question, grade, quiz
from civicshield.service.domain import audit
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.reads import PUBLIC_FACT_CHECK
from civicshield.service.domain.security import Role
from civicshield.service.domain.tables import Case, Organization, QuizAttempt

__all__ = ["debunks", "questions", "results", "submit"]

MAX_ANSWERS = 20


def debunks(s: Session, base_url: str, limit: int = 200) -> list[Debunk]:
    """The published TLP:CLEAR fact-checks with a rating, newest first."""
    query = (
        select(Case, Organization.name)
        .join(Organization, Organization.id == Case.org_id)
        .where(PUBLIC_FACT_CHECK, Case.rating.is_not(None))
        .order_by(Case.published_at.desc(), Case.id.desc())
        .limit(limit)
    )
    base = base_url.rstrip("/")
    return [
        Debunk(
            key=str(case.slug),
            claim=case.claim,
            title=case.title,
            rating=case.rating,
            url=f"{base}/fact-checks/{case.slug}",
            publisher=name,
            published=(case.published_at or case.created_at).date(),
        )
        for case, name in s.execute(query)
        if case.rating is not None
    ]


def questions(s: Session, base_url: str, lang: str, *, seed: int = 0) -> tuple[Question, ...]:
    return quiz(debunks(s, base_url), lang, seed=seed)


def submit(s: Session, who: Principal, base_url: str, lang: str, answers: dict[str, str]) -> QuizAttempt:
    """Grade ``answers`` (fact-check slug -> rating) against the published ratings and keep the attempt."""
    if not 1 <= len(answers) <= MAX_ANSWERS:
        raise UsageError(f"answer 1 to {MAX_ANSWERS} questions")
    published = {d.key: d for d in debunks(s, base_url)}
    unknown = sorted(set(answers) - set(published))
    if unknown:
        raise UsageError(f"not public fact-checks: {', '.join(unknown[:5])}")
    asked = [q for q in quiz(list(published.values()), lang, size=len(published)) if q.key in answers]
    right, total = grade(asked, answers)
    row = QuizAttempt(
        org_id=who.org_id, user_id=who.user_id, language=lang, answers=dict(answers), right=right, asked=total
    )
    s.add(row)
    s.flush()
    audit.record(
        s,
        who.org_id,
        who.actor,
        "awareness.quiz_taken",
        "quiz_attempt",
        row.id,
        {"right": right, "asked": total},
    )
    return row


def results(s: Session, who: Principal) -> list[dict[str, Any]]:
    """Quiz results per organization: the caller's own (organization admins), every one's (operators)."""
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("organization admins see their organization's results")
    query = select(QuizAttempt, Organization.name).join(Organization, Organization.id == QuizAttempt.org_id)
    if not who.can(Role.PLATFORM_ADMIN):
        query = query.where(QuizAttempt.org_id == who.org_id)
    per: dict[str, dict[str, int]] = defaultdict(lambda: {"attempts": 0, "people": 0, "right": 0, "asked": 0})
    people: dict[str, set[int]] = defaultdict(set)
    for attempt, org in s.execute(query):
        line = per[org]
        line["attempts"] += 1
        line["right"] += attempt.right
        line["asked"] += attempt.asked
        people[org].add(attempt.user_id)
    out = []
    for org, line in sorted(per.items()):
        share = round(100 * line["right"] / line["asked"]) if line["asked"] else 0
        out.append({"organization": org, **line, "people": len(people[org]), "percent_right": share})
    return out
