"""Protected people and domains of the caller's organization (issue 12): list (members), add and remove
(organization admins). TLP:RED: nobody outside the organization reads them; every change is audited. Items
the organization submits are checked against them in every analysis (the ``impersonation`` analyzer)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from civicshield.service.api.schemas import Strict
from civicshield.service.domain import protection
from civicshield.service.domain.tables import ProtectedEntry
from civicshield.service.web.deps import DbDep, IdPath, OrgAdmin, Viewer

router = APIRouter(prefix="/api/v1/protection", tags=["protection"])


class ProtectedIn(Strict):
    kind: Literal["person", "domain"]
    name: str = Field(min_length=1, max_length=300)
    aliases: list[str] = Field(default_factory=list, max_length=20)


class ProtectedOut(BaseModel):
    id: int
    kind: str
    name: str
    aliases: list[str]


def _out(row: ProtectedEntry) -> ProtectedOut:
    return ProtectedOut(id=row.id, kind=row.kind, name=row.name, aliases=list(row.aliases or []))


@router.get("/entries", response_model=list[ProtectedOut])
def list_entries(s: DbDep, who: Viewer) -> list[ProtectedOut]:
    return [_out(row) for row in protection.list_entries(s, who)]


@router.post("/entries", response_model=ProtectedOut, status_code=201)
def add_entry(body: ProtectedIn, s: DbDep, who: OrgAdmin) -> ProtectedOut:
    """A protected person (name, aliases; 5 characters or more) or domain (IDN allowed)."""
    return _out(protection.add_entry(s, who, body.kind, body.name, body.aliases))


@router.delete("/entries/{entry_id}", status_code=204)
def delete_entry(entry_id: IdPath, s: DbDep, who: OrgAdmin) -> Response:
    protection.delete_entry(s, who, entry_id)
    return Response(status_code=204)
