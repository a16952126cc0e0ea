"""What leaves the service as STIX 2.1 or MISP, who may receive it, and the TAXII collection built from it.

A published case goes out two ways:

* its own organization exports it directly (``/api/v1/cases/{id}/stix`` and ``/misp``), whatever its label:
  the route's ``CaseDep`` already limits it to the owner, so other organizations get a 404 there;
* every organization pulls the TAXII collection of published fact-checks, which holds the STIX objects of
  each published case the caller *may receive* (`may_receive`).

Who may receive what is TLP 2.0 as ``civicshield.sharing.tlp`` reads it, with the service's organizations as
the community (the same line ``service.banks.visible`` draws for bank entries): another organization
receives CLEAR and GREEN; the owner receives everything up to AMBER+STRICT. RED is for named individuals,
"never an organization's shared inbox" (``Audience``), and a TAXII feed is exactly that inbox, typically an
OpenCTI or MISP instance, so RED cases never enter the collection: their owner exports them per case.

The collection is computed, not stored: published cases are final, and bundle ids are derived from stable
facts (``sharing._ids``), so the same cases always give the same objects. Each object is listed once per
``(id, version)``; ``date_added`` is the publication time of the first receivable case that carried it.
Objects are ordered by ``(date_added, dependency rank, id, version)``, the rank putting what an object
refers to before it (markings and identities, observables, indicators, relationships, then the report), so a
client that ingests page by page rarely meets a dangling reference. That order is total and new cases sort
last, so the keyset cursor (`encode_cursor`) of a page stays valid while cases are published.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from civicshield.errors import Conflict, UsageError
from civicshield.service.domain.publication import fact_check
from civicshield.service.domain.states import CaseState
from civicshield.service.domain.tables import Case, Item, Organization
from civicshield.sharing import Audience, FactCheck, may_share, misp_event, stix_bundle
from civicshield.sharing._ids import stix_timestamp
from civicshield.sharing.tlp import TLP, labels_for

#: Where each STIX type sorts among the objects of one case: what is referred to comes first.
DEPENDENCY_RANK = {
    "marking-definition": 0,
    "identity": 1,
    "extension-definition": 2,
    "file": 3,
    "url": 3,
    "observed-data": 4,
    "indicator": 5,
    "relationship": 6,
    "report": 7,
}
_OTHER_RANK = 5
Key = tuple[dt.datetime, int, str, str]


def audience(org_id: int, owner_org_id: int) -> Audience:
    return Audience.OWN_ORGANIZATION if org_id == owner_org_id else Audience.COMMUNITY


def may_receive(org_id: int, case: Case) -> bool:
    """Whether organization ``org_id`` may pull ``case`` from the TAXII collection."""
    return case.state is CaseState.PUBLISHED and may_share(case.tlp, audience=audience(org_id, case.org_id))


def _receivable(org_id: int) -> ColumnElement[bool]:
    """`may_receive` as SQL, derived from the same rule so the two cannot drift apart."""
    own = and_(Case.org_id == org_id, Case.tlp.in_(labels_for(Audience.OWN_ORGANIZATION)))
    community = and_(Case.org_id != org_id, Case.tlp.in_(labels_for(Audience.COMMUNITY)))
    return and_(Case.state == CaseState.PUBLISHED, or_(own, community))


# ---- one case --------------------------------------------------------------------------------------------


def _published(case: Case) -> None:
    if case.state is not CaseState.PUBLISHED:
        raise Conflict("only published cases are exported; publish the case first")


def stix_for(s: Session, case: Case, base_url: str) -> dict[str, Any]:
    """The STIX 2.1 bundle of a published case, marked with the case's TLP label."""
    _published(case)
    return stix_bundle(fact_check(s, case, base_url), tlp=case.tlp)


def misp_for(s: Session, case: Case, base_url: str) -> dict[str, Any]:
    """The MISP event of a published case, tagged with the case's TLP label."""
    _published(case)
    return misp_event(fact_check(s, case, base_url), tlp=case.tlp)


# ---- the collection --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectionObject:
    """One version of one STIX object in the collection, with its TAXII bookkeeping."""

    date_added: dt.datetime
    rank: int
    id: str
    version: str
    body: dict[str, Any]

    @property
    def key(self) -> Key:
        return (self.date_added, self.rank, self.id, self.version)

    @property
    def type(self) -> str:
        return str(self.body["type"])

    @property
    def spec_version(self) -> str:
        return str(self.body.get("spec_version", "2.1"))


def receivable_cases(s: Session, org_id: int) -> list[Case]:
    """Published cases ``org_id`` may receive, oldest publication first."""
    query = select(Case).where(_receivable(org_id)).order_by(Case.published_at, Case.id)
    return list(s.scalars(query))


def collection_objects(s: Session, org_id: int, base_url: str) -> list[CollectionObject]:
    """Every object of the collection as ``org_id`` sees it, in collection order."""
    cases = receivable_cases(s, org_id)
    # Load the cases' items and organizations in two queries, and hold them: the session's identity map only
    # keeps weak references, and `fact_check` would otherwise fetch them one case at a time.
    held = [*s.scalars(select(Item).join(Case, Case.item_id == Item.id).where(_receivable(org_id)))]
    held += s.scalars(select(Organization)).all() if cases else []
    seen: set[tuple[str, str | None]] = set()
    out: list[CollectionObject] = []
    for case in cases:
        added = _aware(case.modified_at or case.published_at or case.created_at)  # a new version is news
        for obj in _objects_of(fact_check(s, case, base_url), case.tlp):
            stamp = obj.get("modified") or obj.get("created")
            if (obj["id"], stamp) in seen:
                continue
            seen.add((obj["id"], stamp))
            # Observables carry no timestamps; TAXII then wants a version "consistent to the server".
            version = stamp or stix_timestamp(added)
            rank = DEPENDENCY_RANK.get(obj["type"], _OTHER_RANK)
            out.append(CollectionObject(added, rank, obj["id"], version, obj))
    del held
    return sorted(out, key=lambda o: o.key)


@functools.lru_cache(maxsize=4096)
def _objects_of(fc: FactCheck, tlp: TLP) -> tuple[dict[str, Any], ...]:
    """A case's STIX objects. `stix_bundle` is a pure function of frozen, hashable values, so the cache key is
    the whole input and an entry can never go stale; it spares rebuilding every bundle for every page. The
    dicts are shared between requests: serialise them, never change them."""
    return tuple(stix_bundle(fc, tlp=tlp)["objects"])


@dataclass(frozen=True)
class Filters:
    """TAXII 2.1 filters (section 3.4). ``versions`` holds ``first``/``last``/``all`` and exact timestamps."""

    added_after: dt.datetime | None = None
    ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    versions: tuple[str, ...] = ("last",)
    spec_versions: frozenset[str] | None = None


def select_objects(objects: Iterable[CollectionObject], f: Filters) -> list[CollectionObject]:
    """The objects matching ``f``, in collection order; per id, only the versions ``f.versions`` asks for."""
    by_id: dict[str, list[CollectionObject]] = {}
    for o in objects:
        if (
            (f.ids is None or o.id in f.ids)
            and (f.types is None or o.type in f.types)
            and (f.spec_versions is None or o.spec_version in f.spec_versions)
            and (f.added_after is None or o.date_added > f.added_after)
        ):
            by_id.setdefault(o.id, []).append(o)
    chosen = [v for versions in by_id.values() for v in _pick_versions(versions, f.versions)]
    return sorted(chosen, key=lambda o: o.key)


def _pick_versions(versions: list[CollectionObject], wanted: Sequence[str]) -> list[CollectionObject]:
    if "all" in wanted:
        return versions
    ordered = sorted(versions, key=lambda o: parse_timestamp(o.version))
    exact = {parse_timestamp(w) for w in wanted if w not in ("first", "last")}
    picked = [o for o in ordered if parse_timestamp(o.version) in exact]
    if "first" in wanted:
        picked.append(ordered[0])
    if "last" in wanted:
        picked.append(ordered[-1])
    return list({id(o): o for o in picked}.values())


@dataclass(frozen=True)
class Page:
    items: list[CollectionObject]
    more: bool
    next: str | None


def paginate(objects: Sequence[CollectionObject], limit: int, after: Key | None = None) -> Page:
    """``limit`` objects following the cursor position ``after`` (keyset pagination)."""
    rest = [o for o in objects if after is None or o.key > after]
    items = rest[:limit]
    more = len(rest) > limit
    return Page(items, more, encode_cursor(items[-1].key) if more and items else None)


def encode_cursor(key: Key) -> str:
    """Opaque to clients: URL-safe base64 of the sort key of the last object a page returned."""
    added, rank, object_id, version = key
    raw = json.dumps([taxii_timestamp(added), rank, object_id, version], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> Key:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        added, rank, object_id, version = raw
        if not (isinstance(rank, int) and isinstance(object_id, str) and isinstance(version, str)):
            raise ValueError(token)
        return (parse_timestamp(str(added)), rank, object_id, version)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise UsageError("malformed 'next' value; use the one the previous page returned") from exc


# ---- timestamps ------------------------------------------------------------------------------------------


def taxii_timestamp(moment: dt.datetime) -> str:
    """TAXII's own timestamp: UTC with microseconds (``2026-05-01T12:00:00.000000Z``, TAXII 2.1 section 2)."""
    return _aware(moment).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> dt.datetime:
    """An RFC 3339 timestamp with a time zone, any sub-second precision; ``UsageError`` otherwise."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(f"not an RFC 3339 timestamp: {text[:64]!r}") from exc
    if moment.tzinfo is None:
        raise UsageError(f"timestamp without time zone: {text[:64]!r} (end it with Z)")
    return moment.astimezone(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
