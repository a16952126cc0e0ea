"""The dashboard: the case queue by state, the latest analyses, and items that hit a bank."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from civicshield.service.domain import reads, store
from civicshield.service.domain.states import CaseState
from civicshield.service.pages import views
from civicshield.service.pages.routing import page_router
from civicshield.service.pages.session import MemberDep
from civicshield.service.pages.templating import render
from civicshield.service.web.deps import DbDep, runtime

router = page_router("/ui")
QUEUE_STATES = (CaseState.NEW, CaseState.TRIAGE, CaseState.IN_REVIEW)
PER_COLUMN = 8
HIT_SCAN = 20


@router.get("/")
def dashboard(request: Request, member: MemberDep, s: DbDep) -> Response:
    rt = runtime(request)
    who = member.who
    queue = {state: store.list_cases(s, who, state)[:PER_COLUMN] for state in QUEUE_STATES}
    published = store.list_cases(s, who, CaseState.PUBLISHED)[:5]
    hits = []
    for item in reads.recent_items(s, who, HIT_SCAN):
        everything = views.item_matches(s, request.app.state.live, item, who.org_id, rt.settings.base_url)
        # an item always matches the entries its own publication added: not a hit
        found = views.one_per_fact_check([m for m in everything if m.source_item_id != item.id])
        if found:
            hits.append((item, found))
    return render(
        request,
        "dashboard.html.j2",
        member=member,
        counts=reads.case_counts(s, who),
        queue=queue,
        published=published,
        jobs=reads.recent_jobs(s, who),
        hits=hits,
    )


@router.get("/cases")
def cases(
    request: Request, member: MemberDep, s: DbDep, state: Annotated[str | None, Query(max_length=12)] = None
) -> Response:
    wanted = state if state in set(CaseState) else None
    rows = [(c, store.latest_job_for_item_id(s, c.item_id)) for c in store.list_cases(s, member.who, wanted)]
    return render(
        request,
        "cases.html.j2",
        member=member,
        rows=rows,
        state=wanted,
        counts=reads.case_counts(s, member.who),
    )
