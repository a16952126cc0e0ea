"""Election incidents (issue 15, part 2), the analogue of GIFCT's Content Incident Protocol for the last days
before a vote: the one write path for ``incidents``, their items and their timeline.

*Declare*: an operator or an organization admin declares an incident — severity, election, the people or
bodies targeted, DISARM techniques, a sharing label. Every active member organization is told at once (an
inbox line and the ``incident.declared`` webhook), and organizations whose protected people or domains are
among the targets are told that it concerns them. *Surge*: items attached to an active incident are analyzed
first (``infra.jobs.SURGE_QUEUE``; the API re-queues a waiting job there). *Timeline*: members add updates,
each with its own label; an organization sees every line at AMBER or below and its own RED lines. *Items*:
an organization sees its own attached items; of the others only how many there are — fan-out never carries
an item across a sharing label. *Situation report* and *stand-down* with an after-action report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield.errors import Conflict, Forbidden, NotFound, UsageError
from civicshield.service.domain import alerts, audit, notifications
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role
from civicshield.service.domain.states import JobState, WebhookEvent
from civicshield.service.domain.tables import (
    Incident,
    IncidentItem,
    IncidentUpdate,
    Item,
    Job,
    Organization,
    ProtectedEntry,
    utcnow,
)
from civicshield.sharing import disarm
from civicshield.sharing.tlp import TLP

__all__ = [
    "SEVERITIES",
    "Report",
    "active_for_item",
    "add_item",
    "add_update",
    "declare",
    "incident_of",
    "list_incidents",
    "situation_report",
    "stand_down",
]

SEVERITIES = ("low", "medium", "high", "critical")
KIND = "incident_declared"


def declare(
    s: Session,
    who: Principal,
    *,
    title: str,
    severity: str,
    election: str = "",
    targets: list[str] | None = None,
    techniques: list[str] | None = None,
    tlp: TLP | str = TLP.AMBER,
) -> Incident:
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("operators and organization admins declare incidents")
    if severity not in SEVERITIES:
        raise UsageError(f"severity must be one of {', '.join(SEVERITIES)}")
    label = TLP.parse(tlp) if isinstance(tlp, str) else tlp
    if label is TLP.RED:
        raise UsageError("an incident for the whole coalition cannot be TLP:RED")
    names = [" ".join(t.split())[:200] for t in (targets or []) if t.strip()][:50]
    incident = Incident(
        org_id=who.org_id,
        title=" ".join(title.split())[:300],
        severity=severity,
        election=election.strip()[:200],
        targets=names,
        disarm=list(disarm.validate(techniques or [])),
        tlp=label,
        declared_by=who.actor,
    )
    s.add(incident)
    s.flush()
    audit.record(
        s, who.org_id, who.actor, "incident.declared", "incident", incident.id, {"severity": severity}
    )
    _fan_out(s, incident)
    return incident


def _fan_out(s: Session, incident: Incident) -> None:
    """Tell every active member; tell organizations protecting a target that it concerns them."""
    concerned = _protecting(s, incident.targets)
    orgs = s.scalars(select(Organization.id).where(Organization.suspended_at.is_(None)))
    detail = {"incident_id": incident.id, "severity": incident.severity, "election": incident.election}
    for org_id in orgs:
        mine = org_id in concerned
        title = f"{incident.severity.upper()} incident declared: {incident.title}"
        body = "It concerns people or domains you protect. " if mine else ""
        body += f"Targets: {', '.join(incident.targets) or 'not named'}."
        notifications.notify(s, org_id, KIND, title, body, {**detail, "concerns_you": mine})
        payload = {**detail, "title": incident.title, "targets": incident.targets, "disarm": incident.disarm}
        alerts.queue_event(
            s, org_id, WebhookEvent.INCIDENT_DECLARED, incident.tlp, payload, own_org_only=True
        )


def _protecting(s: Session, targets: list[str]) -> set[int]:
    if not targets:
        return set()
    wanted = {t.casefold() for t in targets}
    rows = s.execute(select(ProtectedEntry.org_id, ProtectedEntry.name, ProtectedEntry.aliases))
    return {
        org
        for org, name, aliases in rows
        if {name.casefold(), *(a.casefold() for a in aliases or [])} & wanted
    }


def list_incidents(s: Session, who: Principal, *, active_only: bool = False) -> list[Incident]:
    query = select(Incident).order_by(Incident.id.desc()).limit(200)
    if active_only:
        query = query.where(Incident.stood_down_at.is_(None))
    return list(s.scalars(query))


def incident_of(s: Session, who: Principal, incident_id: int) -> Incident:
    row = s.get(Incident, incident_id)
    if row is None:
        raise NotFound("no such incident")
    return row


def add_item(s: Session, who: Principal, incident_id: int, item_id: int) -> tuple[IncidentItem, Job | None]:
    """Attach one of the caller's items; returns the row and the item's job if it still waits (to re-queue
    on the surge queue)."""
    if not who.can(Role.ANALYST):
        raise Forbidden("analysts and above attach items to incidents")
    incident = incident_of(s, who, incident_id)
    if incident.stood_down_at is not None:
        raise Conflict("the incident was stood down")
    item = s.get(Item, item_id)
    if item is None or item.org_id != who.org_id:
        raise NotFound("no such item")
    row = s.scalar(
        select(IncidentItem).where(IncidentItem.incident_id == incident.id, IncidentItem.item_id == item.id)
    )
    if row is None:
        row = IncidentItem(incident_id=incident.id, item_id=item.id, org_id=who.org_id)
        s.add(row)
        s.flush()
        audit.record(
            s, who.org_id, who.actor, "incident.item_added", "incident", incident.id, {"item": item.id}
        )
    waiting = s.scalars(
        select(Job).where(Job.item_id == item.id, Job.state == JobState.QUEUED).order_by(Job.id.desc())
    ).first()
    return row, waiting


def active_for_item(s: Session, item_id: int) -> bool:
    """Whether an item belongs to an incident not yet stood down (its jobs go to the surge queue)."""
    query = (
        select(func.count())
        .select_from(IncidentItem)
        .join(Incident, Incident.id == IncidentItem.incident_id)
        .where(IncidentItem.item_id == item_id, Incident.stood_down_at.is_(None))
    )
    return bool(s.scalar(query))


def add_update(
    s: Session, who: Principal, incident_id: int, text: str, tlp: TLP | str = TLP.AMBER
) -> IncidentUpdate:
    if not who.can(Role.ANALYST):
        raise Forbidden("analysts and above write on incident timelines")
    incident = incident_of(s, who, incident_id)
    if not text.strip():
        raise UsageError("an update needs text")
    row = IncidentUpdate(
        incident_id=incident.id,
        org_id=who.org_id,
        actor=who.actor,
        text=text.strip()[:8000],
        tlp=TLP.parse(tlp) if isinstance(tlp, str) else tlp,
    )
    s.add(row)
    s.flush()
    audit.record(s, who.org_id, who.actor, "incident.updated", "incident", incident.id, {"tlp": str(row.tlp)})
    return row


def _visible(who: Principal, update: IncidentUpdate) -> bool:
    return update.org_id == who.org_id or update.tlp is not TLP.RED


@dataclass(frozen=True)
class Report:
    data: dict[str, Any]

    def markdown(self) -> str:
        d = self.data
        lines = [
            f"# Situation report: {d['title']}",
            "",
            f"- Severity: {d['severity']}; election: {d['election'] or '-'}; TLP:{d['tlp']}",
            f"- Declared {d['declared_at']} by {d['declared_by']}"
            + (f"; stood down {d['stood_down_at']}" if d["stood_down_at"] else "; active"),
            f"- Targets: {', '.join(d['targets']) or '-'}",
            f"- Items: {d['items']['yours']} of yours, {d['items']['others']} from other members; "
            f"analyzed {d['items']['analyzed']}, waiting {d['items']['waiting']}",
            "",
            "## DISARM techniques",
            *[f"- {t['id']} {t['name']} ({t['tactic']})" for t in d["disarm"]],
            "",
            "## Timeline",
            *[f"- {u['at']} ({u['tlp']}): {u['text']}" for u in d["timeline"]],
        ]
        if d.get("after_action"):
            lines += ["", "## After-action report", "", d["after_action"]]
        lines += ["", f"_{disarm.ATTRIBUTION}_"]
        return "\n".join(lines) + "\n"


def situation_report(s: Session, who: Principal, incident_id: int) -> Report:
    incident = incident_of(s, who, incident_id)
    rows = list(s.scalars(select(IncidentItem).where(IncidentItem.incident_id == incident.id)))
    mine = [r for r in rows if r.org_id == who.org_id]
    states = dict(
        s.execute(
            select(Job.state, func.count())
            .where(Job.item_id.in_([r.item_id for r in rows] or [0]))
            .group_by(Job.state)
        ).all()
    )
    updates = s.scalars(
        select(IncidentUpdate).where(IncidentUpdate.incident_id == incident.id).order_by(IncidentUpdate.id)
    )
    known = disarm.techniques()
    data = {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity,
        "election": incident.election,
        "tlp": str(incident.tlp),
        "targets": list(incident.targets or []),
        "declared_at": incident.declared_at.isoformat(timespec="seconds"),
        "declared_by": incident.declared_by,
        "stood_down_at": incident.stood_down_at.isoformat(timespec="seconds")
        if incident.stood_down_at
        else None,
        "disarm": [
            {"id": t, "name": known[t].name, "tactic": known[t].tactic} for t in incident.disarm or []
        ],
        "items": {
            "yours": [r.item_id for r in mine],
            "others": len(rows) - len(mine),
            "analyzed": int(states.get(JobState.DONE, 0)),
            "waiting": int(states.get(JobState.QUEUED, 0) + states.get(JobState.RUNNING, 0)),
        },
        "timeline": [
            {"at": u.at.isoformat(timespec="seconds"), "tlp": str(u.tlp), "text": u.text}
            for u in updates
            if _visible(who, u)
        ],
        "after_action": incident.after_action,
        "disarm_attribution": disarm.ATTRIBUTION,
    }
    return Report(data)


def stand_down(s: Session, who: Principal, incident_id: int, after_action: str) -> Incident:
    """End the incident with an after-action report (what happened, what worked, what to change)."""
    incident = incident_of(s, who, incident_id)
    if not (who.can(Role.PLATFORM_ADMIN) or (who.org_id == incident.org_id and who.can(Role.ORG_ADMIN))):
        raise Forbidden("the declaring organization's admins or the operators stand an incident down")
    if incident.stood_down_at is not None:
        raise Conflict("the incident was already stood down")
    if not after_action.strip():
        raise UsageError("write the after-action report")
    incident.stood_down_at = utcnow()
    incident.after_action = after_action.strip()[:20000]
    audit.record(s, who.org_id, who.actor, "incident.stood_down", "incident", incident.id, {})
    return incident
