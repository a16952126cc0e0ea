"""The public verification page: anyone checks a file without an account.

The file is analyzed during the request and then forgotten, unless the person ticks the box that sends it to
the fact-checkers. Analysis runs in a separate process under stricter limits, a few at a time
(``service.public_checks``). The file is compared with the shared banks as the public (only entries labelled
TLP:CLEAR or belonging to a published TLP:CLEAR fact-check count, ``banks.PUBLIC_ORG``), its Content
Credentials are read with the service's trust settings, and the latest public fact-checks are listed.
Rate-limited per client address like the other unauthenticated endpoints.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from civicshield.banks.verdict import BankVerdict
from civicshield.errors import CivicShieldError
from civicshield.service.domain import reads, store
from civicshield.service.domain.banks import PUBLIC_ORG
from civicshield.service.domain.matches import LiveMatch
from civicshield.service.infra.bank_index import LiveIndex
from civicshield.service.infra.public_checks import PublicCheck
from civicshield.service.infra.runtime import Runtime
from civicshield.service.pages import views
from civicshield.service.pages.routing import page_router
from civicshield.service.pages.templating import is_htmx, render
from civicshield.service.submission import submit_bytes
from civicshield.service.web.deps import RateLimit, runtime
from civicshield.service.web.uploads import read_limited

router = page_router()
ANONYMOUS_ORG = PUBLIC_ORG


def _analyze(rt: Runtime, live: LiveIndex, data: bytes, name: str) -> tuple[PublicCheck, list[LiveMatch]]:
    """The verdict (computed in the public checker's process) and the banks' matches (here, in memory)."""
    checked: PublicCheck = rt.public_checker.check(data, name)
    if checked.hashes is None:
        return checked, []
    return checked, live.match(ANONYMOUS_ORG, checked.hashes, kinds=("known_fake", "authentic"))


def _page(request: Request, status: int = 200, **result: Any) -> Response:
    with runtime(request).db.reading() as s:
        checks = reads.public_fact_checks(s)
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
        data = await read_limited(file, rt.settings.public_limits.max_bytes)
        await run_in_threadpool(rt.public_checker.probe, data, name)  # header only: limits before decoding
        checked, found = await run_in_threadpool(_analyze, rt, request.app.state.live, data, name)
    except CivicShieldError as exc:
        return _page(request, status=exc.http_status, name=name, error=exc)
    report = checked.report
    shared = share == "yes"
    matches = await run_in_threadpool(
        _after_analysis, rt, request.app.state.celery, data, name, found, shared
    )
    creds = views.credentials(report)
    return _page(
        request,
        name=name,
        error=None,
        label=BankVerdict.of(m.match for m in found) if found else checked.label,
        engine_label=checked.label,
        confidence=checked.confidence,
        matches=matches,
        note=checked.note,
        credentials=creds,
        tree=views.manifest_tree(creds),
        media=report["media"],
        shared=shared,
    )
