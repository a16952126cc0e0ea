"""Submissions: upload a file or a link to a post (analysis runs off-request as a job) and poll the job."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from civicshield.intake.links import LinkLimits, fetch_post
from civicshield.service.api.schemas import ItemOut, JobOut, Strict
from civicshield.service.domain import audit, store
from civicshield.service.domain.states import JobState
from civicshield.service.domain.tables import Job
from civicshield.service.submission import submit_bytes
from civicshield.service.web.deps import DbDep, IdPath, RuntimeDep, Submitter, Viewer
from civicshield.service.web.uploads import UPLOAD_BODY, uploaded_file

router = APIRouter(prefix="/api/v1", tags=["items"])


def job_out(job: Job, with_report: bool = True) -> JobOut:
    return JobOut(
        id=job.id,
        item_id=job.item_id,
        state=job.state,
        attempts=job.attempts,
        label=job.label,
        error=job.error,
        report=job.report if with_report else None,
    )


@router.post("/items", response_model=ItemOut, status_code=202, openapi_extra=UPLOAD_BODY)
async def submit(request: Request, rt: RuntimeDep, who: Submitter) -> ItemOut:
    """Store the file (content-addressed) and queue its analysis. Bad media is refused before storing."""
    data, name = await uploaded_file(request, rt.settings.max_upload_bytes)
    done = await run_in_threadpool(submit_bytes, rt, request.app.state.celery, who, data, name)
    job = JobOut(
        id=done.job_id, item_id=done.item_id, state=JobState.QUEUED, attempts=0, label=None, error=None
    )
    return ItemOut(
        id=done.item_id,
        sha256=done.sha256,
        filename=done.filename,
        media_kind=done.media_kind,
        size=done.size,
        job=job,
        duplicate_of=done.duplicate_of,
    )


@router.get("/items/{item_id}", response_model=ItemOut)
def get_item(item_id: IdPath, s: DbDep, who: Viewer) -> ItemOut:
    item = store.get_item(s, who, item_id)
    job = store.latest_job(s, item)
    return ItemOut(
        id=item.id,
        sha256=item.sha256,
        filename=item.filename,
        media_kind=item.media_kind,
        size=item.size,
        job=job_out(job) if job else None,
    )


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: IdPath, s: DbDep, who: Viewer) -> JobOut:
    return job_out(store.get_job(s, who, job_id))


class LinkIn(Strict):
    url: str = Field(min_length=8, max_length=2000, description="a post, page or media URL")


@router.post("/items/from-link", status_code=202)
async def submit_link(body: LinkIn, request: Request, rt: RuntimeDep, who: Submitter) -> dict[str, Any]:
    """Fetch a post through the egress guard, queue the analysis of each image, video or audio it shows,
    and keep a WARC of what was fetched (its SHA-256 is the evidence of what the page showed)."""
    post = await run_in_threadpool(
        fetch_post, body.url, networks=rt.settings.analysis.link_networks, limits=LinkLimits()
    )
    warc = await run_in_threadpool(rt.blobs.put, post.warc)
    items = []
    for media in post.media:
        name = media.url.rsplit("/", 1)[-1].split("?")[0] or "linked-media"
        done = await run_in_threadpool(submit_bytes, rt, request.app.state.celery, who, media.data, name)
        items.append(
            {"item_id": done.item_id, "job_id": done.job_id, "url": media.url, "sha256": done.sha256}
        )
    with rt.db.session() as s:
        audit.record(
            s, who.org_id, who.actor, "item.from_link", "item", items[0]["item_id"],
            {"url": body.url[:500], "final_url": post.final_url[:500], "warc_sha256": warc},
        )  # fmt: skip
    return {
        "url": body.url,
        "final_url": post.final_url,
        "title": post.title,
        "warc_sha256": warc,
        "items": items,
    }
