"""The public verification page: anyone checks a file without an account.

The file is analyzed during the request and then forgotten, unless the person ticks the box that sends it to
the fact-checkers. It is compared with the shared banks as an anonymous caller (organization 0: only CLEAR
and GREEN entries count, and only CLEAR entries show their label and link), its Content Credentials are read
with the service's trust settings, and the latest public (TLP:CLEAR) fact-checks are listed. Rate-limited per
client address like the other unauthenticated endpoints.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from civicshield.errors import CivicShieldError, MediaError
from civicshield.hashing.cache import media_hashes
from civicshield.media import Media
from civicshield.service import store
from civicshield.service.api.uploads import read_limited
from civicshield.service.banks import PUBLIC_ORG, LiveIndex, LiveMatch
from civicshield.service.deps import RateLimit, runtime
from civicshield.service.jobs import Runtime
from civicshield.service.submission import submit_bytes
from civicshield.service.ui import queries, views
from civicshield.service.ui.routing import page_router
from civicshield.service.ui.templating import is_htmx, render
from civicshield.verdict import Verdict

router = page_router()
ANONYMOUS_ORG = PUBLIC_ORG


def _analyze(rt: Runtime, live: LiveIndex, media: Media) -> tuple[Verdict, list[LiveMatch], str | None]:
    verdict = rt.engine.analyze(media)
    try:
        found = live.match(ANONYMOUS_ORG, media_hashes(media), kinds=("known_fake", "authentic"))
    except MediaError as exc:
        return verdict, [], exc.message
    return verdict, found, None


def _page(request: Request, status: int = 200, **result: Any) -> Response:
    with runtime(request).db.reading() as s:
        checks = queries.public_fact_checks(s)
        template = "_verify_result.html.j2" if is_htmx(request) and result else "verify.html.j2"
        return render(request, template, status=status, fact_checks=checks, result=result or None)


def _after_analysis(
    rt: Runtime, celery: Any, data: bytes, name: str, found: list[LiveMatch], share: bool
) -> list[Any]:
    """Blocking work after the analysis (a worker thread): the optional hand-over to the fact-checkers,
    and the public view of the matches."""
    if share:
        with rt.db.session() as s:
            intake = store.public_intake(s)
        submit_bytes(rt, celery, intake, data, name)
    with rt.db.reading() as s:
        return list(
            views.one_per_fact_check(
                views.match_views(s, found, ANONYMOUS_ORG, rt.settings.base_url, public=True)
            )
        )


@router.get("/verify")
def verify_page(request: Request) -> Response:
    return _page(request)


@router.post("/verify", dependencies=[RateLimit])
async def verify(
    request: Request, file: Annotated[UploadFile, File()], share: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    rt = runtime(request)
    name = file.filename or "upload"
    try:
        data = await read_limited(file, rt.settings.max_upload_bytes)
        media = await run_in_threadpool(Media.from_bytes, data, name=name, limits=rt.settings.analysis.limits)
    except CivicShieldError as exc:
        return _page(request, status=exc.http_status, name=name, error=exc)
    verdict, found, note = await run_in_threadpool(_analyze, rt, request.app.state.live, media)
    report = verdict.to_dict()
    shared = share == "yes"
    matches = await run_in_threadpool(
        _after_analysis, rt, request.app.state.celery, data, name, found, shared
    )
    creds = views.credentials(report)
    return _page(
        request,
        name=name,
        error=None,
        label=views.match_verdict(found) if found else str(verdict.label),
        engine_label=str(verdict.label),
        confidence=verdict.confidence,
        matches=matches,
        note=note,
        credentials=creds,
        tree=views.manifest_tree(creds),
        media=report["media"],
        shared=shared,
    )
