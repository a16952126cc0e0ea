"""What the pages show, built from stored rows and reports: the C2PA manifest tree and bank matches.

Kept apart from the routes so templates receive plain, already-decided values (a tree, a list of matches)
instead of digging through nested report dicts themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from civicshield.banks.verdict import BankVerdict
from civicshield.provenance.vocab import credential_status
from civicshield.service.domain import reads
from civicshield.service.domain.links import fact_check_url
from civicshield.service.domain.matches import LiveMatch
from civicshield.service.domain.reports import plain_sentence, signal
from civicshield.service.domain.states import CaseState
from civicshield.service.domain.tables import BankRow, Case, Item
from civicshield.service.infra.bank_index import LiveIndex
from civicshield.sharing.tlp import Audience, may_share

MAX_TREE_DEPTH = 8


@dataclass(frozen=True)
class ManifestNode:
    """One manifest of a C2PA store and the ingredients it names; an ingredient with its own manifest in
    the store becomes a child node, so the page can draw the provenance chain as a nested list."""

    manifest: Mapping[str, Any]
    ingredients: tuple[tuple[Mapping[str, Any], ManifestNode | None], ...] = ()


def credentials(report: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The ``CredentialsReport`` the c2pa analyzer stored as evidence, if it ran, with its exact ``status``
    (``provenance.vocab.credential_status``: only a failed hard binding reads as changed)."""
    sig = signal(report, "c2pa")
    creds = (sig or {}).get("evidence", {}).get("credentials")
    if not isinstance(creds, Mapping):
        return None
    error = creds.get("error")
    status = credential_status(
        present=bool(creds.get("present")),
        state=creds.get("state"),
        failures=[str(c) for c in creds.get("active_failures") or []],
        error_code=str(error.get("code")) if isinstance(error, Mapping) and error.get("code") else None,
    )
    return {**creds, "status": status, "plain": plain_sentence(report)}


def manifest_tree(creds: Mapping[str, Any] | None) -> ManifestNode | None:
    """The active manifest with its ingredients' manifests nested below it (cycles and depth bounded)."""
    manifests = [m for m in (creds or {}).get("manifests", []) if isinstance(m, Mapping)]
    if not manifests:
        return None
    by_label = {str(m.get("label")): m for m in manifests}

    def node(m: Mapping[str, Any], seen: frozenset[str]) -> ManifestNode:
        children: list[tuple[Mapping[str, Any], ManifestNode | None]] = []
        for ing in m.get("ingredients", []) or []:
            if not isinstance(ing, Mapping):
                continue
            label = ing.get("manifest")
            child = by_label.get(str(label)) if label else None
            if child is not None and str(label) not in seen and len(seen) < MAX_TREE_DEPTH:
                children.append((ing, node(child, seen | {str(label)})))
            else:
                children.append((ing, None))
        return ManifestNode(m, tuple(children))

    root = manifests[0]
    return node(root, frozenset({str(root.get("label"))}))


@dataclass(frozen=True)
class MatchView:
    bank: str
    bank_kind: str
    label: str
    signal_type: str
    tlp: str
    exact: bool
    distance: int | None
    case_id: int | None
    own: bool
    fact_check_url: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    source_item_id: int | None = None  # the item whose published case added the entry
    bank_id: int | None = None  # set where the viewer may open the bank's page (members, not the public)

    @property
    def verdict(self) -> BankVerdict:
        """What this one match says (the badge beside it)."""
        return BankVerdict.of([self])


def match_views(
    s: Session, found: Sequence[LiveMatch], org_id: int, base_url: str, *, public: bool = False
) -> list[MatchView]:
    """Matches as the page shows them. ``public``: only TLP:CLEAR entries keep their label and link."""
    out = []
    for lm in found[:50]:
        bank = s.get(BankRow, lm.meta.bank_id)
        case = s.get(Case, lm.meta.case_id) if lm.meta.case_id else None
        shown = not public or may_share(lm.meta.tlp, audience=Audience.PUBLIC)
        published = case is not None and bool(case.slug) and case.state is CaseState.PUBLISHED
        public_case = reads.is_public_fact_check(case)
        label = lm.match.entry.label if shown else (case.title if public_case and case is not None else "")
        url = None
        if case is not None and published and (public_case or not public):
            url = fact_check_url(base_url, case)
        elif shown and lm.match.entry.link:
            url = lm.match.entry.link
        out.append(
            MatchView(
                bank=bank.name if bank and shown else "",
                bank_kind=str(lm.match.bank_kind),
                label=label,
                signal_type=lm.match.signal_type.value,
                tlp=lm.meta.tlp,
                exact=lm.match.exact,
                distance=lm.match.distance,
                case_id=lm.meta.case_id if not public else None,
                own=lm.meta.owner_org_id == org_id,
                fact_check_url=url,
                detail=lm.match.detail() if not public else {},
                source_item_id=case.item_id if case is not None and not public else None,
                bank_id=lm.meta.bank_id if bank and shown and not public else None,
            )
        )
    return out


def one_per_fact_check(matches: Sequence[MatchView]) -> list[MatchView]:
    """One line per fact-check (a re-upload often matches its sha256 and its PDQ entry); exact wins."""
    out: dict[object, MatchView] = {}
    for m in matches:
        key: object = m.fact_check_url or (m.bank, m.label, m.signal_type)
        if key not in out or (m.exact and not out[key].exact):
            out[key] = m
    return list(out.values())


def bank_verdict(matches: Sequence[MatchView], item_id: int | None = None) -> BankVerdict | None:
    """What the banks say about an item (ignoring the entries its own publication added), or ``None``."""
    verdict = BankVerdict.of(m for m in matches if item_id is None or m.source_item_id != item_id)
    return None if verdict is BankVerdict.NO_MATCH else verdict


def item_matches(s: Session, live: LiveIndex, item: Item, org_id: int, base_url: str) -> list[MatchView]:
    hashes = reads.item_media_hashes(item)
    if hashes is None:
        return []
    return match_views(s, live.match(org_id, hashes), org_id, base_url)
