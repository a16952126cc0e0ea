"""Election incidents (issue 15): declare, attach items (analyzed first), a shared timeline, a situation
report (JSON or Markdown) and a stand-down with an after-action report."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from civicshield.service.api.schemas import Strict
from civicshield.service.domain import incidents
from civicshield.service.domain.tables import Incident
from civicshield.service.infra.jobs import enqueue
from civicshield.service.web.deps import DbDep, IdPath, OrgAdmin, RuntimeDep, Submitter, Viewer
from civicshield.sharing.tlp import TLP

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


class IncidentIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    severity: Literal["low", "medium", "high", "critical"]
    election: str = Field(default="", max_length=200)
    targets: list[str] = Field(default_factory=list, max_length=50)
    disarm: list[str] = Field(default_factory=list, max_length=30, description="DISARM technique ids")
    tlp: TLP = TLP.AMBER


class IncidentOut(BaseModel):
    id: int
    title: str
    severity: str
    election: str
    targets: list[str]
    disarm: list[str]
    tlp: str
    declared_at: str
    stood_down_at: str | None


def _out(row: Incident) -> IncidentOut:
    return IncidentOut(
        id=row.id,
        title=row.title,
        severity=row.severity,
        election=row.election,
        targets=list(row.targets or []),
        disarm=list(row.disarm or []),
        tlp=str(row.tlp),
        declared_at=row.declared_at.isoformat(timespec="seconds"),
        stood_down_at=row.stood_down_at.isoformat(timespec="seconds") if row.stood_down_at else None,
    )


class ItemIn(Strict):
    item_id: int = Field(ge=1, le=2_147_483_647)


class UpdateIn(Strict):
    text: str = Field(min_length=1, max_length=8000)
    tlp: TLP = TLP.AMBER


class StandDownIn(Strict):
    after_action: str = Field(min_length=1, max_length=20000)


@router.post("", response_model=IncidentOut, status_code=201)
def declare(body: IncidentIn, s: DbDep, who: OrgAdmin) -> IncidentOut:
    """Declare an incident: every member is told (inbox, ``incident.declared`` webhook); organizations
    protecting a target are told it concerns them; attached items are analyzed first."""
    row = incidents.declare(
        s,
        who,
        title=body.title,
        severity=body.severity,
        election=body.election,
        targets=body.targets,
        techniques=body.disarm,
        tlp=body.tlp,
    )
    return _out(row)


@router.get("", response_model=list[IncidentOut])
def list_incidents(s: DbDep, who: Viewer, active: bool = False) -> list[IncidentOut]:
    return [_out(r) for r in incidents.list_incidents(s, who, active_only=active)]


@router.get("/{incident_id}")
def report(incident_id: IdPath, s: DbDep, who: Viewer) -> dict[str, Any]:
    """The situation report as the caller may see it (its own items; others' only counted)."""
    return incidents.situation_report(s, who, incident_id).data


@router.get("/{incident_id}/report.md", response_class=PlainTextResponse)
def report_markdown(incident_id: IdPath, s: DbDep, who: Viewer) -> PlainTextResponse:
    text = incidents.situation_report(s, who, incident_id).markdown()
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


@router.post("/{incident_id}/items", status_code=201)
def add_item(
    incident_id: IdPath, body: ItemIn, request: Request, rt: RuntimeDep, who: Submitter
) -> dict[str, Any]:
    """Attach one of your items; a job still waiting is sent to the surge queue at once."""
    with rt.db.session() as s:  # committed before a worker can pick the surge message up
        row, waiting = incidents.add_item(s, who, incident_id, body.item_id)
        out = {
            "incident_id": row.incident_id,
            "item_id": row.item_id,
            "surged_job": waiting.id if waiting else None,
        }
    if out["surged_job"] is not None:
        enqueue(request.app.state.celery, int(out["surged_job"]), surge=True)
    return out


@router.post("/{incident_id}/updates", status_code=201)
def add_update(incident_id: IdPath, body: UpdateIn, s: DbDep, who: Submitter) -> dict[str, Any]:
    row = incidents.add_update(s, who, incident_id, body.text, body.tlp)
    return {"id": row.id, "at": row.at.isoformat(timespec="seconds"), "tlp": str(row.tlp)}


@router.post("/{incident_id}/stand-down", response_model=IncidentOut)
def stand_down(incident_id: IdPath, body: StandDownIn, s: DbDep, who: OrgAdmin) -> IncidentOut:
    return _out(incidents.stand_down(s, who, incident_id, body.after_action))
