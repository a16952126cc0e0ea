"""Alerts: queue signed webhook deliveries for an event, respecting TLP.

A webhook receives events of its own organization up to its ``max_tlp``, and events of other
organizations only when they are labelled CLEAR or GREEN (and within its ``max_tlp``). Some events are
addressed to one organization only (``own_org_only``): ``match.found`` tells what an organization's lookup
found, which is nobody else's business whatever the label of the entries. Deliveries are rows:
queued in the same transaction as the change that caused them, so an event is never announced for a change
that rolled back nor lost for one that committed. ``delivery`` sends them later (a Celery task sent once
the transaction commits, plus the worker's periodic sweep) and retries with backoff; the rows are the log.

Every delivery body is an envelope around the event's data::

    {"id": "dlv_42", "event": "case.published", "event_id": "…", "occurred_at": "…", "tlp": "GREEN",
     "org": {"id": 1, "name": "factcheck-org"}, "data": {…}}

``event_id`` is the same for every delivery (and redelivery) of one event, so receivers can de-duplicate.

The events (``impersonation.detected`` is queued by ``notifications``, to the protected organization only):

* ``case.published``: a case was published (``publication``); the case, its fact-check URL, its ClaimReview.
* ``bank.entry_added``: entries were added to a bank, by any path (``banks.add_entries``: the bank API and
  pages, a published fact-check); up to 100 entries, labelled with the most restrictive of their TLPs.
* ``match.found``: an item matched bank entries, when a platform asked the match API or an analysis job
  checked a submission (`matches_found`). Two events, each to one organization: the checking organization
  gets every entry it matched (what it may see anyway: its own entries at any TLP, others' CLEAR and GREEN)
  with how it asked; the owner of each other bank that matched gets its own entries only, marked as matched
  by another organization, with neither that organization's name nor what it checked. Each event is labelled
  with the most restrictive TLP of its entries, so a webhook whose ``max_tlp`` is lower does not get it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.banks.model import shared_hash
from civicshield.service.domain.links import fact_check_url
from civicshield.service.domain.matches import LiveMatch
from civicshield.service.domain.states import WebhookEvent
from civicshield.service.domain.tables import (
    BankEntryRow,
    BankRow,
    Case,
    Delivery,
    Organization,
    Webhook,
    utcnow,
)
from civicshield.sharing.tlp import TLP, Audience, may_share, most_restrictive

EVENTS = tuple(WebhookEvent)
PING = "ping"
MAX_ENTRIES_IN_EVENT = 100  # receivers page through the bank API for more
MAX_MATCHES_IN_EVENT = 50  # as many as the match API answers with
#: Set on a session whose transaction queued deliveries: ``infra.delivery`` wakes a worker once it commits.
QUEUED = "civicshield.deliveries_queued"


def announce_after_commit(s: Session) -> None:
    """Ask for a worker to be woken once this session's transaction commits (never before: it would find
    nothing yet). The rows are the outbox; the wake-up is best effort, the worker's sweep finds them."""
    s.info[QUEUED] = True


def may_receive(webhook: Webhook, event_org_id: int, tlp: TLP) -> bool:
    if tlp > webhook.max_tlp:
        return False
    return webhook.org_id == event_org_id or may_share(tlp, audience=Audience.COMMUNITY)


def envelope(s: Session, org_id: int, event: str, tlp: TLP, data: dict[str, Any]) -> dict[str, Any]:
    """What every delivery of this event carries (the wire ``id`` is added per delivery when sent)."""
    org = s.get(Organization, org_id)
    return {
        "event": event,
        "event_id": uuid.uuid4().hex,
        "occurred_at": utcnow().isoformat(),
        "tlp": tlp,
        "org": {"id": org_id, "name": org.name if org else None},
        "data": data,
    }


def queue_event(
    s: Session,
    org_id: int,
    event: str,
    tlp: TLP | str,
    payload: dict[str, Any],
    *,
    own_org_only: bool = False,
) -> list[Delivery]:
    """One pending delivery per active webhook subscribed to ``event`` and allowed to see ``tlp``; with
    ``own_org_only``, webhooks of ``org_id`` only."""
    tlp = TLP.parse(tlp)
    body = envelope(s, org_id, event, tlp, payload)
    out = []
    hooks = select(Webhook).where(Webhook.active.is_(True))
    if own_org_only:
        hooks = hooks.where(Webhook.org_id == org_id)
    for hook in s.scalars(hooks.order_by(Webhook.id)):
        if (not hook.events or event in hook.events) and may_receive(hook, org_id, tlp):
            d = Delivery(webhook_id=hook.id, event=event, payload=body, next_attempt_at=utcnow())
            s.add(d)
            out.append(d)
    s.flush()
    if out:
        announce_after_commit(s)
    return out


def bank_entries_added(s: Session, bank: BankRow, rows: Sequence[BankEntryRow]) -> list[Delivery]:
    """``bank.entry_added`` for entries just added, labelled with the most restrictive TLP among them."""
    if not rows:
        return []
    tlp = most_restrictive(r.tlp for r in rows)
    entries = [
        {
            "id": r.id,
            "signal_type": r.signal_type,
            "hash": shared_hash(r.signal_type, r.value),
            "label": r.label,
            "link": r.link or None,
            "tlp": r.tlp,
            "case_id": r.case_id,
        }
        for r in rows[:MAX_ENTRIES_IN_EVENT]
    ]
    data = {
        "bank": {"id": bank.id, "name": bank.name, "kind": bank.kind, "tlp": bank.tlp},
        "count": len(rows),
        "entries": entries,
        "truncated": len(rows) > MAX_ENTRIES_IN_EVENT,
    }
    return queue_event(s, bank.org_id, WebhookEvent.BANK_ENTRY_ADDED, tlp, data)


def match_doc(s: Session, found: LiveMatch, base_url: str) -> dict[str, Any]:
    """One matched entry as the match API answers it (``MatchOut``), with its fact-check page when it came
    from a published case."""
    bank = s.get(BankRow, found.meta.bank_id)
    case = s.get(Case, found.meta.case_id) if found.meta.case_id else None
    link = found.match.entry.link
    return {
        "bank_id": found.meta.bank_id,
        "bank": bank.name if bank else "?",
        "bank_kind": found.match.bank_kind.value,
        "entry_id": found.meta.row_id,
        "label": found.match.entry.label,
        "link": link,
        "signal_type": found.match.signal_type.value,
        "tlp": found.meta.tlp,
        "case_id": found.meta.case_id,
        "fact_check_url": fact_check_url(base_url, case) if case is not None and case.slug else link,
        "detail": found.match.detail(),
    }


def matches_found(
    s: Session, org_id: int, found: Sequence[LiveMatch], *, base_url: str, source: dict[str, Any]
) -> list[Delivery]:
    """``match.found`` for what ``org_id`` checked (``source``: how, e.g. ``{"via": "match_api"}``): one event
    to the checking organization with every match, one to each other owner with its own entries only."""
    shown = list(found[:MAX_MATCHES_IN_EVENT])
    owners = {m.meta.owner_org_id for m in shown} - {org_id}
    listening = _listening(s, {org_id, *owners}, WebhookEvent.MATCH_FOUND) if shown else set()
    out: list[Delivery] = []
    if org_id in listening:
        mine = {"checked_by": "own_organization", "source": source, "truncated": len(found) > len(shown)}
        out += _match_event(s, org_id, shown, base_url, mine)
    for owner in sorted(owners & listening):
        theirs = [m for m in shown if m.meta.owner_org_id == owner]
        out += _match_event(s, owner, theirs, base_url, {"checked_by": "another_organization"})
    return out


def _listening(s: Session, org_ids: set[int], event: str) -> set[int]:
    """The organizations among ``org_ids`` with an active webhook for ``event``: one query, so a lookup
    that nobody subscribed to costs no more (the match API answers many)."""
    rows = s.execute(
        select(Webhook.org_id, Webhook.events).where(Webhook.active.is_(True), Webhook.org_id.in_(org_ids))
    )
    return {org for org, events in rows if not events or event in events}


def _match_event(
    s: Session, org_id: int, found: Sequence[LiveMatch], base_url: str, about: dict[str, Any]
) -> list[Delivery]:
    tlp = most_restrictive(m.meta.tlp for m in found)
    matches = [match_doc(s, m, base_url) for m in found]
    data = {**about, "count": len(matches), "matches": matches}
    return queue_event(s, org_id, WebhookEvent.MATCH_FOUND, tlp, data, own_org_only=True)
