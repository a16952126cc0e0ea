"""Submitting a file, for the API (``POST /api/v1/items``) and the web pages alike.

Bad media is refused before anything is stored; then the bytes go to the content-addressed blob store, the
item and its job are written through ``store`` in one transaction, and the job id is queued after the commit
(so a worker never looks for a job that is not committed yet).
"""

from __future__ import annotations

from dataclasses import dataclass

from celery import Celery

from civicshield.media import Media
from civicshield.service.domain import store
from civicshield.service.domain.principal import Principal
from civicshield.service.infra.jobs import enqueue
from civicshield.service.infra.runtime import Runtime


@dataclass(frozen=True)
class Submitted:
    item_id: int
    job_id: int
    filename: str
    size: int
    media_kind: str
    sha256: str
    duplicate_of: int | None = None  # the organization already has these exact bytes as this item


def store_submission(rt: Runtime, who: Principal, data: bytes, filename: str) -> Submitted:
    """Check ``data`` as media, store its bytes, and write its item and pending job (one transaction)."""
    media = Media.from_bytes(data, name=filename or "upload", limits=rt.settings.analysis.limits)
    sha = rt.blobs.put(data)
    with rt.db.session() as s:
        earlier = store.earlier_item(s, who, sha)
        item = store.add_item(
            s, who, sha256=sha, filename=media.name, media_kind=str(media.kind), size=len(data)
        )
        job = store.create_job(s, item)
        return Submitted(item.id, job.id, item.filename, item.size, str(media.kind), sha, earlier)


def submit_bytes(rt: Runtime, celery: Celery, who: Principal, data: bytes, filename: str) -> Submitted:
    """``store_submission``, then the job is queued for a worker once the transaction has committed."""
    out = store_submission(rt, who, data, filename)
    enqueue(celery, out.job_id)
    return out
