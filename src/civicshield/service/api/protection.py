"""Protected people and domains of the caller's organization (issue 12): list (members), add and remove
(organization admins). TLP:RED: nobody outside the organization reads them; every change is audited. Items
the organization submits are checked against them in every analysis (the ``impersonation`` analyzer)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from civicshield.analyzers.impersonation import reference_face, reference_voice
from civicshield.banks.policy import DEFAULT_POLICY
from civicshield.errors import UsageError
from civicshield.hashing.cache import media_hashes
from civicshield.media import Media, MediaKind
from civicshield.service.api.schemas import Strict
from civicshield.service.domain import protection
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.tables import ProtectedEntry
from civicshield.service.infra.runtime import Runtime
from civicshield.service.web.deps import DbDep, IdPath, OrgAdmin, RuntimeDep, Viewer
from civicshield.service.web.uploads import UPLOAD_BODY, uploaded_file

router = APIRouter(prefix="/api/v1/protection", tags=["protection"])


class ProtectedIn(Strict):
    kind: Literal["person", "domain", "handle"]
    name: str = Field(min_length=1, max_length=300)
    aliases: list[str] = Field(default_factory=list, max_length=20)
    platform: str = Field(default="", max_length=20, description="for a handle: x, facebook, instagram, …")


class ProtectedOut(BaseModel):
    id: int
    kind: str
    name: str
    aliases: list[str]
    faces: int = Field(description="reference faces enrolled (embeddings only; never returned)")
    voices: int = Field(description="reference voices enrolled (embeddings only; never returned)")


def _out(row: ProtectedEntry) -> ProtectedOut:
    return ProtectedOut(
        id=row.id,
        kind=row.kind,
        name=row.name,
        aliases=list(row.aliases or []),
        faces=len(row.faces or []),
        voices=len(row.voices or []),
    )


@router.get("/entries", response_model=list[ProtectedOut])
def list_entries(s: DbDep, who: Viewer, rt: RuntimeDep) -> list[ProtectedOut]:
    """The organization's protected people, domains and handles (every read is audited)."""
    rows = [_out(row) for row in protection.list_entries(s, who)]
    with rt.db.session() as w:
        protection.record_read(w, who, len(rows))
    return rows


@router.post("/entries", response_model=ProtectedOut, status_code=201)
def add_entry(body: ProtectedIn, s: DbDep, who: OrgAdmin) -> ProtectedOut:
    """A protected person (name, aliases; 5 characters or more), domain (IDN allowed) or social handle
    (``platform`` and the handle as ``name``)."""
    return _out(protection.add_entry(s, who, body.kind, body.name, body.aliases, body.platform))


@router.delete("/entries/{entry_id}", status_code=204)
def delete_entry(entry_id: IdPath, s: DbDep, who: OrgAdmin) -> Response:
    protection.delete_entry(s, who, entry_id)
    return Response(status_code=204)


LikenessKind = Annotated[Literal["faces", "voices"], PathParam(description="faces or voices")]


@router.post(
    "/entries/{entry_id}/{kind}", response_model=ProtectedOut, status_code=201, openapi_extra=UPLOAD_BODY
)
async def add_reference(
    entry_id: IdPath, kind: LikenessKind, request: Request, rt: RuntimeDep, who: OrgAdmin
) -> ProtectedOut:
    """Enrol a reference photo (``faces``: one clear face) or recording (``voices``: a few seconds of the
    person speaking) of a protected person. Only its embedding is kept; the file itself is not stored."""
    data, name = await uploaded_file(request, rt.settings.max_upload_bytes)
    return await run_in_threadpool(_enrol, rt, who, entry_id, kind, data, name)


@router.delete("/entries/{entry_id}/{kind}", response_model=ProtectedOut)
def clear_references(entry_id: IdPath, kind: LikenessKind, s: DbDep, who: OrgAdmin) -> ProtectedOut:
    """Forget every reference face or voice of a protected person."""
    return _out(protection.clear_references(s, who, entry_id, kind[:-1]))


def _enrol(rt: Runtime, who: Principal, entry_id: int, kind: str, data: bytes, name: str) -> ProtectedOut:
    media = Media.from_bytes(data, name=name, limits=rt.settings.analysis.limits)
    vector = reference_face(media) if kind == "faces" else reference_voice(media)
    with rt.db.session() as s:
        return _out(protection.add_reference(s, who, entry_id, kind[:-1], vector))


@router.post("/visuals", response_model=ProtectedOut, status_code=201, openapi_extra=UPLOAD_BODY)
async def add_visual(
    request: Request, rt: RuntimeDep, who: OrgAdmin, name: Annotated[str, Query(min_length=1, max_length=300)]
) -> ProtectedOut:
    """Protect a logo, poster or other official visual: the picture's PDQ hash is kept, not the picture.
    Copies submitted by any member (turned, mirrored, recompressed) are then reported to you."""
    data, filename = await uploaded_file(request, rt.settings.max_upload_bytes)
    return await run_in_threadpool(_visual, rt, who, name, data, filename)


def _visual(rt: Runtime, who: Principal, name: str, data: bytes, filename: str) -> ProtectedOut:
    media = Media.from_bytes(data, name=filename, limits=rt.settings.analysis.limits)
    if media.kind is not MediaKind.IMAGE:
        raise UsageError(f"{filename}: a protected visual must be a picture")
    pdq = media_hashes(media).pdq
    if pdq is None or pdq.quality < DEFAULT_POLICY.pdq_min_quality:
        raise UsageError(f"{filename}: too flat to recognise copies of (PDQ quality under 50)")
    with rt.db.session() as s:
        return _out(protection.add_visual(s, who, name, pdq.hex))
