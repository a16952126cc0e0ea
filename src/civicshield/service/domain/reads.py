"""Reads beyond ``store``'s that the API and the pages share, each scoped to the caller's organization.

Like ``store``, every function takes the caller's ``Principal`` and filters on its ``org_id``, so nobody can
read another organization's rows. The exceptions are the public fact-checks (published cases labelled
TLP:CLEAR, public by definition: ``is_public_fact_check`` and its SQL twin ``PUBLIC_FACT_CHECK``) and bank
entries, which ``banks.visible`` filters by their TLP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from civicshield.banks import BankEntry
from civicshield.banks.policy import DEFAULT_POLICY
from civicshield.errors import BankFormatError, UsageError
from civicshield.hashing.cache import MediaHashes
from civicshield.hashing.pdq import hamming
from civicshield.media import MediaKind
from civicshield.service.domain import banks, store
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.reports import plain_sentence
from civicshield.service.domain.states import CaseState
from civicshield.service.domain.tables import BankEntryRow, BankRow, Case, Item, Job, Organization, User
from civicshield.sharing.tlp import TLP

SIMILAR_SCAN = 2000  # how many recent items of the organization the PDQ comparison looks at


@dataclass(frozen=True)
class JobRow:
    job: Job
    item: Item


@dataclass(frozen=True)
class Similar:
    """An earlier item of the organization that is the same file (sha256) or looks the same (PDQ)."""

    item: Item
    how: str  # sha256 | pdq
    distance: int | None
    cases: tuple[Case, ...]
    credentials: str | None = None  # what its Content Credentials say, in one sentence, if it has any


def recent_jobs(s: Session, who: Principal, limit: int = 15) -> list[JobRow]:
    q = (
        select(Job, Item)
        .join(Item, Item.id == Job.item_id)
        .where(Job.org_id == who.org_id)
        .order_by(Job.id.desc())
        .limit(limit)
    )
    return [JobRow(job, item) for job, item in s.execute(q)]


def recent_items(s: Session, who: Principal, limit: int = 20) -> list[Item]:
    q = select(Item).where(Item.org_id == who.org_id).order_by(Item.id.desc()).limit(limit)
    return list(s.scalars(q))


def case_counts(s: Session, who: Principal) -> dict[str, int]:
    q = select(Case.state, func.count()).where(Case.org_id == who.org_id).group_by(Case.state)
    return {state: count for state, count in s.execute(q)}


def cases_for_item(s: Session, who: Principal, item_id: int) -> list[Case]:
    q = select(Case).where(Case.org_id == who.org_id, Case.item_id == item_id).order_by(Case.id)
    return list(s.scalars(q))


def members(s: Session, who: Principal) -> list[User]:
    return list(s.scalars(select(User).where(User.org_id == who.org_id).order_by(User.name, User.id)))


def organization(s: Session, who: Principal) -> Organization | None:
    return s.get(Organization, who.org_id)


def item_entries(item: Item, label: str, link: str) -> list[BankEntry]:
    """Bank entries from the hashes the analysis job stored on the item."""
    out = []
    for raw in item.hashes.get("entries", []):
        try:
            out.append(
                BankEntry.create(
                    raw["signal_type"],
                    raw["hash"],
                    label,
                    link=link,
                    quality=raw.get("quality"),
                    original_name=item.filename,
                    original_sha256=item.sha256,
                )
            )
        except (BankFormatError, KeyError, TypeError):
            continue
    return out


def item_media_hashes(item: Item) -> MediaHashes | None:
    """The lookup key of a stored item, from the hashes its analysis job kept (``None`` before analysis)."""
    found: dict[str, Mapping[str, Any]] = {}
    for raw in item.hashes.get("entries", []) if isinstance(item.hashes, Mapping) else []:
        if isinstance(raw, Mapping) and isinstance(raw.get("hash"), str):
            found.setdefault(str(raw.get("signal_type")), raw)
    if not found:
        return None
    kind = MediaKind(item.media_kind) if item.media_kind in set(MediaKind) else MediaKind.IMAGE
    texts = {
        signal: (str(raw["hash"]), int(raw.get("quality") or 100) if signal == "pdq" else None)
        for signal, raw in found.items()
        if signal != "sha256"
    }
    try:
        return MediaHashes.from_texts(texts, sha256=item.sha256 or "", kind=kind)
    except (UsageError, ValueError):
        return None


def pdq_of(item: Item) -> str | None:
    for entry in item.hashes.get("entries", []) if isinstance(item.hashes, dict) else []:
        if (
            isinstance(entry, dict)
            and entry.get("signal_type") == "pdq"
            and isinstance(entry.get("hash"), str)
        ):
            return str(entry["hash"])
    return None


def credentials_sentence(s: Session, item: Item) -> str | None:
    """The plain sentence the c2pa analyzer wrote for the item's latest analysis, when it read credentials."""
    job = store.latest_job(s, item)
    return plain_sentence(job.report) if job is not None else None


def similar_items(
    s: Session, who: Principal, item: Item, limit: int = 10, radius: int | None = None
) -> list[Similar]:
    """Earlier items of the organization with the same sha256, or a PDQ hash within ``radius`` (the bank
    match distance unless a caller asks for another)."""
    radius = DEFAULT_POLICY.pdq_max_distance if radius is None else radius
    pdq = pdq_of(item)
    found: list[Similar] = []
    q = (
        select(Item)
        .where(Item.org_id == who.org_id, Item.id != item.id)
        .order_by(Item.id.desc())
        .limit(SIMILAR_SCAN)
    )
    for other in s.scalars(q):
        if item.sha256 and other.sha256 == item.sha256:
            cases = tuple(cases_for_item(s, who, other.id))
            found.append(Similar(other, "sha256", None, cases, credentials_sentence(s, other)))
            continue
        other_pdq = pdq_of(other)
        if pdq and other_pdq:
            distance = hamming(pdq, other_pdq)
            if distance <= radius:
                cases = tuple(cases_for_item(s, who, other.id))
                found.append(Similar(other, "pdq", distance, cases, credentials_sentence(s, other)))
        if len(found) >= limit:
            break
    return found


#: A published TLP:CLEAR case with a page: public by definition (``is_public_fact_check`` in SQL).
PUBLIC_FACT_CHECK = and_(Case.state == CaseState.PUBLISHED, Case.tlp == TLP.CLEAR, Case.slug.is_not(None))


def is_public_fact_check(case: Case | None) -> bool:
    """Whether ``case`` is a published TLP:CLEAR fact-check with a public page."""
    return (
        case is not None and case.state is CaseState.PUBLISHED and case.tlp is TLP.CLEAR and bool(case.slug)
    )


def public_fact_check(s: Session, slug: str) -> Case | None:
    """The public fact-check at ``/fact-checks/<slug>``, if there is one."""
    case = s.scalar(select(Case).where(Case.slug == slug[:40]))
    return case if is_public_fact_check(case) else None


def public_fact_checks(s: Session, limit: int = 10) -> list[tuple[Case, str]]:
    """The latest published TLP:CLEAR fact-checks of every organization, with the publisher's name."""
    q = (
        select(Case, Organization.name)
        .join(Organization, Organization.id == Case.org_id)
        .where(PUBLIC_FACT_CHECK)
        .order_by(Case.published_at.desc(), Case.id.desc())
        .limit(limit)
    )
    return [(case, name) for case, name in s.execute(q)]


def case_by_id_public(s: Session, case_id: int) -> Case | None:
    """A case only when it is a published TLP:CLEAR fact-check (used to link public matches)."""
    case = s.get(Case, case_id)
    return case if is_public_fact_check(case) else None


def search_hash(
    s: Session, who: Principal, value: str, limit: int = 100
) -> list[tuple[BankEntryRow, BankRow]]:
    """Bank entries holding exactly this hash value, in banks and at TLP labels the caller may see."""
    q = (
        select(BankEntryRow, BankRow)
        .join(BankRow, BankRow.id == BankEntryRow.bank_id)
        .where(BankEntryRow.value == value.strip().lower())
        .limit(limit)
    )
    return [
        (row, bank)
        for row, bank in s.execute(q)
        if banks.visible(who.org_id, bank.org_id, max(row.tlp, bank.tlp))
    ]
