"""Reviewers' labels become a training set, and a candidate detector is compared with the one in use
(issue 15, part 3).

- **Labels.** A reviewer records where an item came from (``Origin``: AI-generated, genuine, edited, unsure);
  one label per item, a new one replaces it, every change audited. A published fact-check rated *authentic*
  counts as a genuine example when no reviewer labelled the item.
- **Consent.** Nothing leaves an organization for training unless one of its admins consented (and it can
  withdraw: later exports leave it out).
- **TLP.** An item carries the most restrictive label of its cases (the organization's default when it has
  none). An export for one organization's own model takes what that organization may see itself (up to
  AMBER+STRICT); an export for the coalition's shared model takes only what may go to the community
  (CLEAR and GREEN). RED never leaves.
- **Shadow report.** Workers score a candidate beside the model in use and record it in the job's report;
  the report counts, on the reviewed items, what each model caught and whom each wrongly accused.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.errors import Forbidden, NotFound
from civicshield.learning.labels import Origin
from civicshield.learning.promotion import Tally
from civicshield.service.domain import audit, store
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role
from civicshield.service.domain.states import JobState
from civicshield.service.domain.tables import Case, Item, ItemLabel, Job, Organization, utcnow
from civicshield.sharing.ratings import Rating
from civicshield.sharing.tlp import TLP, Audience, may_share, most_restrictive

__all__ = [
    "ShadowReport",
    "TrainingExample",
    "TrainingSet",
    "label_item",
    "label_of",
    "labels_of",
    "record_export",
    "set_consent",
    "shadow_report",
    "training_set",
]

DETECTOR = "clip_detector"


def label_item(s: Session, who: Principal, item_id: int, origin: Origin, note: str = "") -> ItemLabel:
    """Record a reviewer's conclusion on one of the organization's items (replacing an earlier one)."""
    if not who.can(Role.REVIEWER):
        raise Forbidden("reviewers and above label items")
    item = s.get(Item, item_id)
    if item is None or item.org_id != who.org_id:
        raise NotFound("no such item")
    row = s.scalar(select(ItemLabel).where(ItemLabel.item_id == item.id))
    before = row.origin if row is not None else None
    if row is None:
        row = ItemLabel(org_id=who.org_id, item_id=item.id)
        s.add(row)
    row.origin, row.note, row.actor, row.at = origin, note.strip()[:2000], who.actor, utcnow()
    s.flush()
    payload: dict[str, Any] = {"origin": str(origin), "before": str(before) if before else None}
    audit.record(s, who.org_id, who.actor, "item.label", "item", item.id, payload)
    return row


def label_of(s: Session, who: Principal, item_id: int) -> ItemLabel | None:
    """The label of one of the organization's items, if a reviewer recorded one."""
    return s.scalar(select(ItemLabel).where(ItemLabel.item_id == item_id, ItemLabel.org_id == who.org_id))


def labels_of(s: Session, who: Principal) -> list[ItemLabel]:
    """The organization's labels, newest first."""
    query = select(ItemLabel).where(ItemLabel.org_id == who.org_id).order_by(ItemLabel.at.desc())
    return list(s.scalars(query))


def set_consent(s: Session, who: Principal, consent: bool) -> Organization:
    """An admin gives or withdraws the organization's consent to training on its reviewers' labels."""
    org = store.administered_org(s, who, "only an organization's admins decide on training consent")
    org.training_consent_at = utcnow() if consent else None
    org.training_consent_by = who.actor if consent else ""
    audit.record(s, org.id, who.actor, "learning.consent", "organization", org.id, {"consent": consent})
    return org


@dataclass(frozen=True)
class TrainingExample:
    item_id: int
    org_id: int
    org_name: str
    sha256: str
    filename: str
    label: str  # ai | real
    because: str  # "reviewer label" | "fact-check rated authentic"


@dataclass(frozen=True)
class TrainingSet:
    examples: tuple[TrainingExample, ...]
    left_out: dict[str, int]  # reason -> items


def _item_tlp(s: Session, item: Item, default: TLP) -> TLP:
    return most_restrictive(s.scalars(select(Case.tlp).where(Case.item_id == item.id)), default=default)


def training_set(s: Session, *, org_id: int | None = None) -> TrainingSet:
    """Image items with a training label from organizations that consented, within TLP: one organization's
    own set (``org_id``) or the coalition's (every consenting organization, community-shareable only)."""
    audience = Audience.OWN_ORGANIZATION if org_id is not None else Audience.COMMUNITY
    orgs_query = select(Organization).where(Organization.training_consent_at.is_not(None))
    if org_id is not None:
        orgs_query = orgs_query.where(Organization.id == org_id)
    orgs = {o.id: o for o in s.scalars(orgs_query)}
    left_out: Counter[str] = Counter()
    chosen: dict[int, tuple[str, str]] = {}
    for row in s.scalars(select(ItemLabel).where(ItemLabel.org_id.in_(orgs))):
        label = row.origin.training_label
        if label is None:
            left_out[f"labelled {row.origin}"] += 1
        else:
            chosen[row.item_id] = (label, "reviewer label")
    authentic = select(Case.item_id).where(
        Case.org_id.in_(orgs),
        Case.rating == Rating.AUTHENTIC,
        Case.published_at.is_not(None),
        Case.retracted_at.is_(None),
    )
    for item_id in s.scalars(authentic):
        chosen.setdefault(item_id, ("real", "fact-check rated authentic"))
    examples = []
    for item_id, (label, because) in sorted(chosen.items()):
        item = s.get(Item, item_id)
        if item is None or item.sha256 is None:
            left_out["no file"] += 1
        elif item.media_kind != "image":
            left_out[f"not an image ({item.media_kind})"] += 1
        elif not may_share(_item_tlp(s, item, orgs[item.org_id].default_tlp), audience=audience):
            left_out["sharing label (TLP) does not allow it"] += 1
        else:
            examples.append(
                TrainingExample(
                    item.id, item.org_id, orgs[item.org_id].name, item.sha256, item.filename, label, because
                )
            )
    return TrainingSet(tuple(examples), dict(left_out))


def record_export(s: Session, examples: tuple[TrainingExample, ...], actor: str, where: str) -> None:
    """Each organization whose items left for training finds it in its audit log (how many, and where)."""
    for org_id, n in sorted(Counter(e.org_id for e in examples).items()):
        audit.record(s, org_id, actor, "learning.export", "organization", org_id, {"items": n, "to": where})


@dataclass(frozen=True)
class ShadowReport:
    version: str
    active: Tally
    shadow: Tally
    disagreements: int
    not_scored: int  # labelled items whose latest analysis has no score from this shadow version

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "active": self.active.to_dict(),
            "shadow": self.shadow.to_dict(),
            "disagreements": self.disagreements,
            "not_scored": self.not_scored,
        }


def _clip_evidence(report: dict[str, Any] | None) -> dict[str, Any] | None:
    for signal in (report or {}).get("signals", []):
        if signal.get("analyzer") == DETECTOR and signal.get("score") is not None:
            evidence: dict[str, Any] = signal.get("evidence") or {}
            return evidence
    return None


def shadow_report(s: Session, who: Principal, version: str) -> ShadowReport:
    """What the model in use and the shadow ``version`` said of the reviewed items, at their thresholds.
    Members see their organization's items; the coalition's operators see every consenting organization's."""
    if not who.can(Role.REVIEWER):
        raise Forbidden("reviewers and above read the shadow report")
    query = select(ItemLabel)
    if who.can(Role.PLATFORM_ADMIN):
        consenting = select(Organization.id).where(Organization.training_consent_at.is_not(None))
        query = query.where(ItemLabel.org_id.in_(consenting))
    else:
        query = query.where(ItemLabel.org_id == who.org_id)
    truth: list[bool] = []
    active: list[bool] = []
    shadow: list[bool] = []
    not_scored = 0
    for row in s.scalars(query):
        label = row.origin.training_label
        if label is None:
            continue
        job = s.scalars(
            select(Job)
            .where(Job.item_id == row.item_id, Job.state == JobState.DONE)
            .order_by(Job.id.desc())
            .limit(1)
        ).first()
        evidence = _clip_evidence(job.report if job else None)
        seen = (evidence or {}).get("shadow") or {}
        if evidence is None or seen.get("model_version") != version:
            not_scored += 1
            continue
        truth.append(label == "ai")
        # Both at the 1 % cut, the one promotion compares: since the grading (issue 11) the evidence names it
        # ``possibly_synthetic_threshold``; reports stored before name it ``synthetic_threshold``.
        cut = evidence.get("possibly_synthetic_threshold", evidence["synthetic_threshold"])
        active.append(float(evidence["probability"]) >= float(cut))
        shadow.append(bool(seen.get("synthetic")))

    def tally(flags: list[bool]) -> Tally:
        return Tally(
            ai=sum(truth),
            caught=sum(f and t for f, t in zip(flags, truth, strict=True)),
            genuine=len(truth) - sum(truth),
            flagged=sum(f and not t for f, t in zip(flags, truth, strict=True)),
        )

    return ShadowReport(
        version=version,
        active=tally(active),
        shadow=tally(shadow),
        disagreements=sum(a != b for a, b in zip(active, shadow, strict=True)),
        not_scored=not_scored,
    )
