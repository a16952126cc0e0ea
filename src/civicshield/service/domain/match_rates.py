"""An entry that suddenly matches far more than usual is quarantined for review (issue 13, part 6).

A wrongly banked picture (a genuine photo that went viral, a logo, a meme template) shows itself by matching
everything at once. Every match of a known-fake entry is counted per day; when today's count reaches
``SURGE_MIN`` and ``SURGE_FACTOR`` times the entry's usual daily rate (its average over the previous
``BASELINE_DAYS`` days, at least one a day), the entry is quarantined like one with too many false-positive
reports: it stops matching and its owner is told, until the owner enables it again or deletes it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicshield.banks.model import BankKind
from civicshield.service.domain import banks
from civicshield.service.domain.matches import LiveMatch
from civicshield.service.domain.tables import BankEntryRow, BankRow, EntryMatchDay, utcnow

__all__ = ["BASELINE_DAYS", "SURGE_FACTOR", "SURGE_MIN", "record"]

SURGE_MIN = 50
SURGE_FACTOR = 10
BASELINE_DAYS = 28


def _count(s: Session, entry_id: int, day: dt.date, n: int) -> int:
    """Add ``n`` to the entry's count for ``day`` (concurrent writers each add theirs); today's total."""
    bump = (
        update(EntryMatchDay)
        .where(EntryMatchDay.entry_id == entry_id, EntryMatchDay.day == day)
        .values(matches=EntryMatchDay.matches + n)
    )
    if s.execute(bump).rowcount == 0:  # type: ignore[attr-defined]
        try:
            with s.begin_nested():
                s.add(EntryMatchDay(entry_id=entry_id, day=day, matches=n))
        except IntegrityError:  # another writer inserted the day first
            s.execute(bump)
    return int(
        s.scalar(
            select(EntryMatchDay.matches).where(EntryMatchDay.entry_id == entry_id, EntryMatchDay.day == day)
        )
        or 0
    )


def _usual(s: Session, entry_id: int, day: dt.date) -> float:
    since = day - dt.timedelta(days=BASELINE_DAYS)
    total = s.scalar(
        select(func.coalesce(func.sum(EntryMatchDay.matches), 0)).where(
            EntryMatchDay.entry_id == entry_id, EntryMatchDay.day >= since, EntryMatchDay.day < day
        )
    )
    return max(1.0, float(total or 0) / BASELINE_DAYS)


def record(s: Session, found: Iterable[LiveMatch], *, today: dt.date | None = None) -> list[int]:
    """Count the known-fake entries ``found`` matched; quarantine those whose rate surged. Their ids."""
    day = today or utcnow().date()
    hits = Counter(m.meta.row_id for m in found if m.match.bank_kind == BankKind.KNOWN_FAKE)
    quarantined = []
    for entry_id, n in sorted(hits.items()):
        now = _count(s, entry_id, day, n)
        if now < SURGE_MIN:
            continue
        usual = _usual(s, entry_id, day)
        row = s.get(BankEntryRow, entry_id)
        bank = s.get(BankRow, row.bank_id) if row is not None else None
        if row is None or bank is None or row.disabled_at is not None or now < SURGE_FACTOR * usual:
            continue
        banks.quarantine(
            s,
            bank,
            row,
            f"matched {now} times today, about {usual:.0f} a day before",
            f"It matched {now} times today, against about {usual:.0f} a day over the previous "
            f"{BASELINE_DAYS} days: a sign that it catches genuine media too",
        )
        quarantined.append(entry_id)
    return quarantined
