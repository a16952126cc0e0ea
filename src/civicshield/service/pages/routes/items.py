"""Uploading files, following their analysis, and the report page of one item."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, RedirectResponse, Response

from civicshield.errors import CivicShieldError, Forbidden, MediaError
from civicshield.learning.labels import Origin
from civicshield.media import Media
from civicshield.report import messages
from civicshield.report.thumbnails import thumbnail
from civicshield.service.domain import learning, reads, store
from civicshield.service.domain.security import Role
from civicshield.service.infra.blobs import BlobStore
from civicshield.service.pages import i18n, views
from civicshield.service.pages.routing import page_router
from civicshield.service.pages.session import MemberDep, flash
from civicshield.service.pages.templating import is_htmx, render, translate
from civicshield.service.submission import submit_bytes
from civicshield.service.web.deps import DbDep, runtime
from civicshield.service.web.uploads import read_limited
from civicshield.settings import Limits
from civicshield.sharing.tlp import TLP
from civicshield.sniff import sniff

router = page_router("/ui")
MAX_FILES = 20


@router.get("/upload")
def upload_page(request: Request, member: MemberDep) -> Response:
    return render(request, "upload.html.j2", member=member, results=[], max_files=MAX_FILES)


@router.post("/upload")
async def upload(request: Request, member: MemberDep, files: Annotated[list[UploadFile], File()]) -> Response:
    """Several files per request (the no-JavaScript form) or one per request (the page's script, which
    shows per-file progress); either way each file becomes an item with a queued analysis, or a row saying
    why not."""
    if not member.can(Role.ANALYST):
        raise Forbidden("analysts and above submit files")
    rt = runtime(request)
    results: list[dict[str, object]] = []
    for upload_file in files[:MAX_FILES]:
        name = upload_file.filename or "upload"
        try:
            data = await read_limited(upload_file, rt.settings.max_upload_bytes)
            done = await run_in_threadpool(submit_bytes, rt, request.app.state.celery, member.who, data, name)
            results.append({"name": name, "submitted": done, "error": None})
        except CivicShieldError as exc:
            results.append({"name": name, "submitted": None, "error": exc})
    if is_htmx(request):
        return render(request, "_upload_rows.html.j2", member=member, results=results)
    return render(request, "upload.html.j2", member=member, results=results, max_files=MAX_FILES)


@router.get("/jobs/{job_id}/status")
def job_status(request: Request, member: MemberDep, s: DbDep, job_id: int) -> Response:
    """The status fragment polled by htmx; it stops polling itself once the job is done or failed."""
    job = store.get_job(s, member.who, job_id)
    return render(request, "_job_status.html.j2", member=member, job=job)


@router.get("/items/{item_id}")
def report(request: Request, member: MemberDep, s: DbDep, item_id: int) -> Response:
    rt = runtime(request)
    who = member.who
    item = store.get_item(s, who, item_id)
    job = store.latest_job(s, item)
    result = job.report if job and job.report else None
    org = reads.organization(s, who)
    matches = views.item_matches(s, request.app.state.live, item, who.org_id, rt.settings.base_url)
    similar = reads.similar_items(s, who, item)
    own = views.credentials(result)
    # A copy without credentials of an earlier item that has them: say what the original's credentials
    # say, as what it is (a resemblance), not as this file's own provenance.
    lookalike = (
        next((sim for sim in similar if sim.credentials), None)
        if own is None or own.get("status") in ("absent", "unreadable")
        else None
    )
    return render(
        request,
        "item.html.j2",
        member=member,
        item=item,
        job=job,
        report=messages.translated(result, i18n.request_language(request)) if result else None,
        tree=views.manifest_tree(views.credentials(result)),
        credentials=views.credentials(result),
        matches=matches,
        bank_label=views.bank_verdict(matches, item.id),
        similar=similar,
        lookalike=lookalike,
        cases=reads.cases_for_item(s, who, item.id),
        default_tlp=org.default_tlp if org else "AMBER",
        can_open=member.can(Role.ANALYST),
        tlps=list(TLP),
        origin=learning.label_of(s, who, item.id),
        can_label=member.can(Role.REVIEWER),
    )


@router.post("/items/{item_id}/label")
def label_item(
    request: Request,
    member: MemberDep,
    s: DbDep,
    item_id: int,
    origin: Annotated[Origin, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    learning.label_item(s, member.who, item_id, origin, note)
    flash(request, "success", translate(request, "Conclusion saved."))
    return RedirectResponse(f"/ui/items/{item_id}#origin-h", status_code=303)


@lru_cache(maxsize=64)
def _preview(blobs: BlobStore, limits: Limits, sha256: str, name: str) -> bytes | None:
    try:
        return thumbnail(Media.from_bytes(blobs.get(sha256), name=name, limits=limits))
    except MediaError:
        return None


@router.get("/items/{item_id}/artefacts/{sha256}")
def artefact(request: Request, member: MemberDep, s: DbDep, item_id: int, sha256: str) -> Response:
    """An image an analyzer produced for this item (heatmap, face boxes, timeline), if its report names it."""
    rt = runtime(request)
    item = store.get_item(s, member.who, item_id)
    job = store.latest_job(s, item)
    report = job.report if job is not None else None
    named = [
        a
        for sig in (report or {}).get("signals", [])
        for a in sig.get("artefacts", [])
        if a.get("blob") == sha256 and str(a.get("media_type", "")).startswith("image/")
    ]
    if not named or not rt.blobs.exists(sha256):
        return Response(status_code=404)
    return Response(
        rt.blobs.get(sha256),
        media_type=str(named[0]["media_type"]),
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.get("/items/{item_id}/media")
def media_file(request: Request, member: MemberDep, item_id: int) -> Response:
    """The item's own video or audio, for the player on its report page (range requests let it seek).
    Only items that passed media validation as video or audio are served, with the type their bytes were
    sniffed as, so nothing uploaded can be served as a page or a script."""
    rt = runtime(request)
    with rt.db.reading() as s:
        item = store.get_item(s, member.who, item_id)
        sha, kind = item.sha256, item.media_kind
    if kind not in ("video", "audio") or not sha or not rt.blobs.exists(sha):
        return Response(status_code=404)
    path = rt.blobs.path(sha)
    with path.open("rb") as fh:
        found = sniff(fh.read(64))
    if found is None or not found.mime.startswith(f"{kind}/"):
        return Response(status_code=404)
    return FileResponse(
        path,
        media_type=found.mime,
        content_disposition_type="inline",
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.get("/items/{item_id}/preview.png")
def preview(request: Request, member: MemberDep, s: DbDep, item_id: int) -> Response:
    """A small PNG of the item (first frame of a video, waveform of audio), made by the report library."""
    rt = runtime(request)
    item = store.get_item(s, member.who, item_id)
    sha, name = item.sha256, item.filename
    png = _preview(rt.blobs, rt.settings.analysis.limits, sha, name) if sha and rt.blobs.exists(sha) else None
    if png is None:
        return Response(status_code=404)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
