"""Reviewers' origin labels, consent to training, and the shadow report (issue 15, part 3)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from civicshield.learning.labels import Origin
from civicshield.service.domain import learning, reads
from civicshield.service.domain.tables import ItemLabel, Organization
from civicshield.service.web.deps import DbDep, IdPath, OrgAdmin, Reviewer, Viewer

router = APIRouter(tags=["learning"])


class LabelIn(BaseModel):
    origin: Origin
    note: str = Field(default="", max_length=2000)


class LabelOut(BaseModel):
    item_id: int
    origin: Origin
    note: str
    actor: str
    at: dt.datetime
    training_label: str | None


class ConsentIn(BaseModel):
    consent: bool


class ConsentOut(BaseModel):
    consent: bool
    since: dt.datetime | None
    by: str


def _label(row: ItemLabel) -> LabelOut:
    return LabelOut(
        item_id=row.item_id,
        origin=row.origin,
        note=row.note,
        actor=row.actor,
        at=row.at,
        training_label=row.origin.training_label,
    )


def _consent(org: Organization) -> ConsentOut:
    return ConsentOut(
        consent=org.training_consent_at is not None, since=org.training_consent_at, by=org.training_consent_by
    )


@router.put("/api/v1/items/{item_id}/label", response_model=LabelOut)
def label_item(item_id: IdPath, body: LabelIn, s: DbDep, who: Reviewer) -> LabelOut:
    """A reviewer's conclusion on where the item came from (replaces an earlier one; audited)."""
    return _label(learning.label_item(s, who, item_id, body.origin, body.note))


@router.get("/api/v1/learning/labels", response_model=list[LabelOut])
def labels(s: DbDep, who: Viewer) -> list[LabelOut]:
    """The organization's labels, newest first."""
    return [_label(row) for row in learning.labels_of(s, who)]


@router.get("/api/v1/learning/consent", response_model=ConsentOut)
def consent(s: DbDep, who: Viewer) -> ConsentOut:
    org = reads.organization(s, who)
    assert org is not None  # a principal's organization exists
    return _consent(org)


@router.put("/api/v1/learning/consent", response_model=ConsentOut)
def set_consent(body: ConsentIn, s: DbDep, who: OrgAdmin) -> ConsentOut:
    """Give or withdraw consent that reviewers' labels may train the coalition's detectors (admins)."""
    return _consent(learning.set_consent(s, who, body.consent))


@router.get("/api/v1/learning/shadow")
def shadow(
    s: DbDep, who: Reviewer, version: Annotated[str, Query(min_length=1, max_length=64)]
) -> dict[str, Any]:
    """What the model in use and the candidate in shadow said of the reviewed items."""
    return learning.shadow_report(s, who, version).to_dict()
