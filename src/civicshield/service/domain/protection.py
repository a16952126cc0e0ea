"""The people and domains an organization protects: the one write path for ``protected_entries``.

Entries are TLP:RED: an organization's own members read them, its admins change them, and nobody else does
(another organization's entry answers "not found", as everywhere). Every change is audited. An
organization's analysis jobs look for its own entries (``watchlist_of``); telling a protected organization
about items other members submit is the notification step still to come (issue 12).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield.errors import Forbidden, NotFound
from civicshield.protection.watchlist import Watchlist
from civicshield.service.domain import audit
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role
from civicshield.service.domain.tables import ProtectedEntry

__all__ = ["KINDS", "add_entry", "delete_entry", "list_entries", "protecting_organizations", "watchlist_of"]

KINDS = ("person", "domain")
MAX_ENTRIES_PER_ORG = 2000


def add_entry(
    s: Session, who: Principal, kind: str, name: str, aliases: list[str] | None = None
) -> ProtectedEntry:
    """A protected person or domain, checked as a watchlist file's entry would be (``UsageError`` naming the
    problem: a name under five characters, something that is not a domain...)."""
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("only organization admins change the protected people and domains")
    entry = {"name": name, **({"aliases": aliases} if kind == "person" and aliases else {})}
    checked = Watchlist.from_dict({kind: [entry]}, where=f"protected {kind}")
    count = s.scalar(
        select(func.count()).select_from(ProtectedEntry).where(ProtectedEntry.org_id == who.org_id)
    )
    if (count or 0) >= MAX_ENTRIES_PER_ORG:
        raise Forbidden(f"an organization protects at most {MAX_ENTRIES_PER_ORG} people and domains")
    if kind == "person":
        person = checked.people[0]
        row = ProtectedEntry(org_id=who.org_id, kind=kind, name=person.name, aliases=list(person.aliases))
    else:
        row = ProtectedEntry(org_id=who.org_id, kind=kind, name=checked.domains[0].name, aliases=[])
    s.add(row)
    s.flush()
    audit.record(s, who.org_id, who.actor, "protection.added", "protected_entry", row.id, {"kind": kind})
    return row


def list_entries(s: Session, who: Principal) -> list[ProtectedEntry]:
    query = select(ProtectedEntry).where(ProtectedEntry.org_id == who.org_id).order_by(ProtectedEntry.id)
    return list(s.scalars(query))


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


def protecting_organizations(s: Session, *, exclude: int) -> list[int]:
    """The organizations with protected entries, but ``exclude``."""
    query = select(ProtectedEntry.org_id).where(ProtectedEntry.org_id != exclude).distinct()
    return sorted(s.scalars(query))


def watchlist_of(s: Session, org_id: int) -> Watchlist:
    """The organization's protected people and domains as the ``impersonation`` analyzer reads them."""
    rows = s.scalars(
        select(ProtectedEntry).where(ProtectedEntry.org_id == org_id).order_by(ProtectedEntry.id)
    )
    raw: dict[str, list[dict[str, object]]] = {"person": [], "domain": []}
    for row in rows:
        entry: dict[str, object] = {"name": row.name}
        if row.kind == "person":
            entry["aliases"] = list(row.aliases or [])
        raw[row.kind].append(entry)
    return Watchlist.from_dict(raw, where="protected entries")
