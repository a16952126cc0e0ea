"""An organization's security posture and mitigation plans, on the shipped guidance (issue 12). The one
write path for ``posture_items`` and ``mitigation_plans``.

Posture: for each checklist item, done or not, the evidence (a sentence, a link) and a due date; the score
is the done items' share of the checklist's weight, 0-100. Plans: a playbook opened for an incident, often in
one click from a notification (the same notification opens the same plan again, not a second one); each
step is due ``minutes`` after opening and is marked done by a member, with who and when. Every change is
audited. Members of the organization read; analysts and above change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.errors import Conflict, Forbidden, NotFound, UsageError
from civicshield.protection.guidance import ChecklistItem, Playbook, guidance
from civicshield.service.domain import audit
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role
from civicshield.service.domain.tables import MitigationPlan, Notification, PostureItem, utcnow

__all__ = [
    "Posture",
    "PostureLine",
    "close_plan",
    "complete_step",
    "open_plan",
    "plan_for_notification",
    "plan_of",
    "plans",
    "posture",
    "set_item",
]


@dataclass(frozen=True)
class PostureLine:
    item: ChecklistItem
    done: bool
    evidence: str
    due_on: dt.date | None
    updated_by: str | None


@dataclass(frozen=True)
class Posture:
    lines: tuple[PostureLine, ...]
    score: int  # 0-100: the done items' share of the checklist's weight
    version: str


def posture(s: Session, who: Principal) -> Posture:
    shipped = guidance()
    rows = {r.item_id: r for r in s.scalars(select(PostureItem).where(PostureItem.org_id == who.org_id))}
    lines = []
    for item in shipped.checklist:
        row = rows.get(item.id)
        lines.append(
            PostureLine(
                item,
                bool(row and row.done),
                row.evidence if row else "",
                row.due_on if row else None,
                row.updated_by if row else None,
            )
        )
    done = sum(line.item.weight for line in lines if line.done)
    return Posture(tuple(lines), round(100 * done / max(1, shipped.total_weight)), shipped.version)


def set_item(
    s: Session, who: Principal, item_id: str, *, done: bool, evidence: str = "", due_on: dt.date | None = None
) -> PostureItem:
    if not who.can(Role.ANALYST):
        raise Forbidden("analysts and above track the security checklist")
    if guidance().item(item_id) is None:
        raise NotFound("no such checklist item")
    row = s.scalar(
        select(PostureItem).where(PostureItem.org_id == who.org_id, PostureItem.item_id == item_id)
    )
    if row is None:
        row = PostureItem(org_id=who.org_id, item_id=item_id)
        s.add(row)
    row.done, row.evidence, row.due_on = done, evidence.strip()[:4000], due_on
    row.guidance_version, row.updated_by, row.updated_at = guidance().version, who.actor, utcnow()
    s.flush()
    audit.record(
        s, who.org_id, who.actor, "posture.updated", "posture_item", row.id, {"item": item_id, "done": done}
    )
    return row


def _playbook(playbook_id: str) -> Playbook:
    found = guidance().playbook(playbook_id)
    if found is None:
        raise NotFound("no such playbook")
    return found


def open_plan(
    s: Session, who: Principal, playbook_id: str, *, notification_id: int | None = None
) -> MitigationPlan:
    """A plan for ``playbook_id``; from a notification, the one already open for it if there is one."""
    if not who.can(Role.ANALYST):
        raise Forbidden("analysts and above open mitigation plans")
    _playbook(playbook_id)
    if notification_id is not None:
        note = s.get(Notification, notification_id)
        if note is None or note.org_id != who.org_id:
            raise NotFound("no such notification")
        existing = s.scalar(
            select(MitigationPlan).where(
                MitigationPlan.notification_id == notification_id, MitigationPlan.closed_at.is_(None)
            )
        )
        if existing is not None:
            return existing
    row = MitigationPlan(
        org_id=who.org_id,
        playbook_id=playbook_id,
        guidance_version=guidance().version,
        notification_id=notification_id,
        opened_by=who.actor,
        steps={},
    )
    s.add(row)
    s.flush()
    audit.record(
        s, who.org_id, who.actor, "plan.opened", "mitigation_plan", row.id, {"playbook": playbook_id}
    )
    return row


def plan_for_notification(s: Session, who: Principal, notification_id: int) -> MitigationPlan:
    """The plan of the playbook a notification names (a candidate deepfake when it names none), opened in
    one call, or the one already open for it."""
    note = s.get(Notification, notification_id)
    if note is None or note.org_id != who.org_id:
        raise NotFound("no such notification")
    playbook = str((note.detail or {}).get("playbook") or "candidate-deepfake")
    return open_plan(s, who, playbook, notification_id=notification_id)


def plans(s: Session, who: Principal) -> list[MitigationPlan]:
    query = select(MitigationPlan).where(MitigationPlan.org_id == who.org_id)
    return list(
        s.scalars(query.order_by(MitigationPlan.closed_at.is_not(None), MitigationPlan.id.desc()).limit(200))
    )


def plan_of(s: Session, who: Principal, plan_id: int) -> tuple[MitigationPlan, Playbook]:
    row = s.get(MitigationPlan, plan_id)
    if row is None or row.org_id != who.org_id:
        raise NotFound("no such plan")
    return row, _playbook(row.playbook_id)


def complete_step(s: Session, who: Principal, plan_id: int, step_id: str) -> MitigationPlan:
    if not who.can(Role.ANALYST):
        raise Forbidden("analysts and above work on mitigation plans")
    row, playbook = plan_of(s, who, plan_id)
    if row.closed_at is not None:
        raise Conflict("the plan is closed")
    if playbook.step(step_id) is None:
        raise UsageError(f"the playbook has no step {step_id!r}")
    if step_id not in (row.steps or {}):
        row.steps = {
            **(row.steps or {}),
            step_id: {"done_at": utcnow().isoformat(timespec="seconds"), "by": who.actor},
        }
        audit.record(s, who.org_id, who.actor, "plan.step_done", "mitigation_plan", row.id, {"step": step_id})
    return row


def close_plan(s: Session, who: Principal, plan_id: int) -> MitigationPlan:
    if not who.can(Role.ANALYST):
        raise Forbidden("analysts and above close mitigation plans")
    row, _ = plan_of(s, who, plan_id)
    if row.closed_at is None:
        row.closed_at = utcnow()
        audit.record(s, who.org_id, who.actor, "plan.closed", "mitigation_plan", row.id, {})
    return row
