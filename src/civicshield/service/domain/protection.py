"""The people and domains an organization protects: the one write path for ``protected_entries``.

Entries are TLP:RED: an organization's own members read them, its admins change them, and nobody else does
(another organization's entry answers "not found", as everywhere). Every change is audited. An
organization's analysis jobs look for its own entries (``watchlist_of``), and every other member's items are
checked against them too (``infra.jobs.impersonations_of_others``, which notifies). A person's faces and
voices are kept as embeddings only (``add_reference``): the reference photo or recording is not stored.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield.errors import Conflict, Forbidden, NotFound, UsageError
from civicshield.protection.likeness import Embedding
from civicshield.protection.watchlist import MAX_LIKENESSES, Watchlist
from civicshield.service.domain import audit
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role
from civicshield.service.domain.states import EnrolmentState
from civicshield.service.domain.tables import ProtectedEntry, ProtectionEnrolment

__all__ = [
    "KINDS",
    "add_entry",
    "add_reference",
    "add_visual",
    "clear_references",
    "delete_entry",
    "list_entries",
    "protecting_organizations",
    "record_read",
    "watchlist_of",
]

KINDS = ("person", "domain", "handle", "visual")
MAX_ENTRIES_PER_ORG = 2000


def add_entry(
    s: Session, who: Principal, kind: str, name: str, aliases: list[str] | None = None, platform: str = ""
) -> ProtectedEntry:
    """A protected person, domain or social handle (on ``platform``), checked as a watchlist file's entry
    would be (``UsageError`` naming the problem: a name under five characters, not a domain...)."""
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("only organization admins change the protected people and domains")
    if kind not in KINDS[:3]:
        raise UsageError(f"kind must be one of {', '.join(KINDS[:3])} (visuals are added from a picture)")
    entry: dict[str, object] = {"name": name}
    if kind == "person" and aliases:
        entry["aliases"] = aliases
    if kind == "handle":
        entry["platform"] = platform
    checked = Watchlist.from_dict({kind: [entry]}, where=f"protected {kind}")
    count = s.scalar(
        select(func.count()).select_from(ProtectedEntry).where(ProtectedEntry.org_id == who.org_id)
    )
    if (count or 0) >= MAX_ENTRIES_PER_ORG:
        raise Forbidden(f"an organization protects at most {MAX_ENTRIES_PER_ORG} people and domains")
    if kind == "person":
        person = checked.people[0]
        row = ProtectedEntry(org_id=who.org_id, kind=kind, name=person.name, aliases=list(person.aliases))
    elif kind == "handle":
        handle = checked.handles[0]
        row = ProtectedEntry(
            org_id=who.org_id, kind=kind, name=f"{handle.platform}:{handle.handle}", aliases=[]
        )
    else:
        row = ProtectedEntry(org_id=who.org_id, kind=kind, name=checked.domains[0].name, aliases=[])
    s.add(row)
    s.flush()
    audit.record(s, who.org_id, who.actor, "protection.added", "protected_entry", row.id, {"kind": kind})
    return row


def list_entries(s: Session, who: Principal) -> list[ProtectedEntry]:
    """The organization's entries (callers record the read with ``record_read``: the list is TLP:RED)."""
    query = select(ProtectedEntry).where(ProtectedEntry.org_id == who.org_id).order_by(ProtectedEntry.id)
    return list(s.scalars(query))


def record_read(s: Session, who: Principal, entries: int) -> None:
    """Audit that a person or key read the protected entries (in a writing transaction of its own: reads run
    in read-only ones)."""
    audit.record(s, who.org_id, who.actor, "protection.read", "protected_entry", 0, {"entries": entries})


def delete_entry(s: Session, who: Principal, entry_id: int) -> None:
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("only organization admins change the protected people and domains")
    row = s.get(ProtectedEntry, entry_id)
    if row is None or row.org_id != who.org_id:
        raise NotFound("no such protected entry")
    s.delete(row)
    audit.record(
        s, who.org_id, who.actor, "protection.deleted", "protected_entry", entry_id, {"kind": row.kind}
    )


def add_visual(s: Session, who: Principal, name: str, pdq: str) -> ProtectedEntry:
    """A protected logo or official visual, by the PDQ hash of its picture (the picture is not kept)."""
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("only organization admins change the protected people and domains")
    visual = Watchlist.from_dict({"visual": [{"name": name, "pdq": pdq}]}, where="protected visual").visuals[
        0
    ]
    row = ProtectedEntry(org_id=who.org_id, kind="visual", name=visual.name, aliases=[], pdq=visual.pdq)
    s.add(row)
    s.flush()
    audit.record(s, who.org_id, who.actor, "protection.added", "protected_entry", row.id, {"kind": "visual"})
    return row


def add_reference(s: Session, who: Principal, entry_id: int, kind: str, vector: Embedding) -> ProtectedEntry:
    """One more reference face or voice (``kind``) of a protected person, as its embedding only."""
    row = _person_row(s, who, entry_id)
    column = "faces" if kind == "face" else "voices"
    current = list(getattr(row, column) or [])
    if len(current) >= MAX_LIKENESSES:
        raise Conflict(f"a protected person has at most {MAX_LIKENESSES} reference {column}")
    setattr(row, column, [*current, [round(x, 6) for x in vector]])
    audit.record(
        s, who.org_id, who.actor, "protection.reference_added", "protected_entry", row.id, {"kind": kind}
    )
    return row


def clear_references(s: Session, who: Principal, entry_id: int, kind: str) -> ProtectedEntry:
    """Forget every reference face or voice (``kind``) of a protected person."""
    row = _person_row(s, who, entry_id)
    setattr(row, "faces" if kind == "face" else "voices", [])
    audit.record(
        s, who.org_id, who.actor, "protection.references_deleted", "protected_entry", row.id, {"kind": kind}
    )
    return row


def _person_row(s: Session, who: Principal, entry_id: int) -> ProtectedEntry:
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("only organization admins change the protected people and domains")
    row = s.get(ProtectedEntry, entry_id)
    if row is None or row.org_id != who.org_id:
        raise NotFound("no such protected entry")
    if row.kind != "person":
        raise Conflict("faces and voices belong to protected people, not domains")
    return row


def protecting_organizations(s: Session, *, exclude: int) -> list[int]:
    """The organizations in the protection programme (approved) with protected entries, but ``exclude``."""
    query = (
        select(ProtectedEntry.org_id)
        .join(ProtectionEnrolment, ProtectionEnrolment.org_id == ProtectedEntry.org_id)
        .where(ProtectedEntry.org_id != exclude, ProtectionEnrolment.state == EnrolmentState.APPROVED)
        .distinct()
    )
    return sorted(s.scalars(query))


def watchlist_of(s: Session, org_id: int) -> Watchlist:
    """The organization's protected people and domains as the ``impersonation`` analyzer reads them."""
    rows = s.scalars(
        select(ProtectedEntry).where(ProtectedEntry.org_id == org_id).order_by(ProtectedEntry.id)
    )
    raw: dict[str, list[dict[str, object]]] = {"person": [], "domain": [], "handle": [], "visual": []}
    for row in rows:
        entry: dict[str, object] = {"name": row.name}
        if row.kind == "handle":
            platform, _, handle = row.name.partition(":")
            entry = {"platform": platform, "name": handle}
        if row.kind == "visual":
            entry["pdq"] = row.pdq
        if row.kind == "person":
            entry["aliases"] = list(row.aliases or [])
            entry["faces"] = list(row.faces or [])
            entry["voices"] = list(row.voices or [])
        raw[row.kind].append(entry)
    return Watchlist.from_dict(raw, where="protected entries")
