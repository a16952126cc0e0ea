"""Public statistics of the coalition's work (issue 15): what was debunked, how fast, with which ratings,
and what entered the public banks, week by week and per year. Built from public (TLP:CLEAR) records only,
so the page and its downloads can be open to everyone.

"Time to publication" runs from the first tip that asked about it (or, without tips, from the moment the item
was submitted) to the fact-check's publication. Tips are counted per channel and language.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from civicshield.service.domain.reads import PUBLIC_FACT_CHECK
from civicshield.service.domain.tables import Case, CaseRevision, Item, TipRequest, TransparencyEntry

__all__ = ["Stats", "stats", "to_csv"]


@dataclass(frozen=True)
class Stats:
    fact_checks: int
    per_week: tuple[tuple[str, int], ...]  # ISO week "2026-W49" -> fact-checks published
    ratings: tuple[tuple[str, int], ...]
    median_hours_to_publication: float | None
    bank_entries: int
    log_size: int
    year: int | None
    requests: int = 0  # tips that asked about the public fact-checks
    channels: tuple[tuple[str, int], ...] = ()  # tip channel -> requests
    languages: tuple[tuple[str, int], ...] = ()  # requesters' languages ("" when the channel did not say)
    corrections: int = 0
    retractions: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "fact_checks": self.fact_checks,
            "per_week": [{"week": w, "fact_checks": n} for w, n in self.per_week],
            "ratings": dict(self.ratings),
            "median_hours_to_publication": self.median_hours_to_publication,
            "public_bank_entries": self.bank_entries,
            "transparency_log_entries": self.log_size,
            "requests": self.requests,
            "channels": dict(self.channels),
            "languages": dict(self.languages),
            "corrections": self.corrections,
            "retractions": self.retractions,
        }


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def stats(s: Session, *, year: int | None = None) -> Stats:
    """Statistics of every public fact-check (or of one calendar ``year``)."""
    rows = list(
        s.execute(select(Case, Item.created_at).join(Item, Item.id == Case.item_id).where(PUBLIC_FACT_CHECK))
    )
    published = [
        (case, _utc(case.published_at or case.created_at), _utc(submitted)) for case, submitted in rows
    ]
    if year is not None:
        published = [row for row in published if row[1].year == year]
    weeks: Counter[str] = Counter()
    for _, at, _ in published:
        iso = at.isocalendar()
        weeks[f"{iso.year}-W{iso.week:02d}"] += 1
    ratings = Counter(str(case.rating) for case, _, _ in published if case.rating is not None)
    case_ids = [case.id for case, _, _ in published]
    tips = list(
        s.execute(
            select(TipRequest.case_id, TipRequest.channel, TipRequest.language, TipRequest.created_at).where(
                TipRequest.case_id.in_(case_ids)
            )
        )
    )
    first: dict[int, dt.datetime] = {}
    for case_id, _, _, at_ in tips:
        if case_id is not None:
            first[case_id] = min(first.get(case_id, _utc(at_)), _utc(at_))
    # From the first request when people asked, else from the moment the item was submitted.
    hours = [
        max(0.0, (at - min(first.get(case.id, submitted), submitted)).total_seconds() / 3600)
        for case, at, submitted in published
    ]
    revisions = Counter(s.scalars(select(CaseRevision.kind).where(CaseRevision.case_id.in_(case_ids))).all())
    in_year = TransparencyEntry.at.like(f"{year}-%") if year is not None else true()
    counts = dict(
        s.execute(
            select(TransparencyEntry.kind, func.count()).where(in_year).group_by(TransparencyEntry.kind)
        ).all()
    )
    return Stats(
        fact_checks=len(published),
        per_week=tuple(sorted(weeks.items())),
        ratings=tuple(sorted(ratings.items(), key=lambda kv: (-kv[1], kv[0]))),
        median_hours_to_publication=round(statistics.median(hours), 1) if hours else None,
        bank_entries=int(counts.get("bank.entry_added", 0)),
        log_size=int(sum(counts.values())),
        year=year,
        requests=len(tips),
        channels=tuple(sorted(Counter(str(t[1]) for t in tips).items())),
        languages=tuple(sorted(Counter(str(t[2]) for t in tips).items())),
        corrections=revisions.get("corrected", 0),
        retractions=revisions.get("retracted", 0),
    )


def to_csv(data: Stats) -> str:
    """Week by week, for spreadsheets: ``week,fact_checks``."""
    return "week,fact_checks\r\n" + "".join(f"{w},{n}\r\n" for w, n in data.per_week)
