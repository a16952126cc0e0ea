"""Case review: open a case from an item, then assign, comment, move, rate and publish it.

Every action is a small form posting to its own URL and redirecting back to the case (post/redirect/get),
so the back button and reloads never repeat an action. The store functions decide who may do what; a refusal
comes back as a message on the case page (see ``routing``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, Request
from starlette.responses import RedirectResponse, Response

from civicshield.errors import UsageError
from civicshield.service.domain import links, publication, reads, store
from civicshield.service.domain.security import Role
from civicshield.service.domain.states import CASE_TRANSITIONS, CaseState
from civicshield.service.pages import i18n, labels
from civicshield.service.pages.routing import page_router
from civicshield.service.pages.session import MemberDep, flash
from civicshield.service.pages.templating import render, translate
from civicshield.service.web.deps import DbDep, runtime
from civicshield.sharing.model import PartyKind
from civicshield.sharing.ratings import Rating

router = page_router("/ui")


def to_case(case_id: int) -> Response:
    return RedirectResponse(f"/ui/cases/{case_id}", status_code=303)


@router.post("/items/{item_id}/cases")
def open_case(
    request: Request,
    member: MemberDep,
    s: DbDep,
    item_id: int,
    title: Annotated[str, Form(max_length=300)],
    claim: Annotated[str, Form(max_length=5000)] = "",
    tlp: Annotated[str, Form(max_length=20)] = "",
    claim_author: Annotated[str, Form(max_length=300)] = "",
    claim_author_kind: Annotated[PartyKind, Form()] = PartyKind.PERSON,
    claim_date: Annotated[str, Form(max_length=10)] = "",
    claim_url: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        when = dt.date.fromisoformat(claim_date) if claim_date else None
    except ValueError:
        raise UsageError(translate(request, "The date is not valid.")) from None
    source = store.ClaimSource(claim_author.strip(), claim_author_kind, when, claim_url.strip())
    item = store.get_item(s, member.who, item_id)
    case = store.create_case(
        s, member.who, item, title.strip() or item.filename, claim.strip(), tlp or None, source
    )
    case_id = case.id
    flash(request, "success", translate(request, "Case opened."))
    return to_case(case_id)


@router.get("/cases/{case_id}")
def case_page(request: Request, member: MemberDep, s: DbDep, case_id: int) -> Response:
    rt = runtime(request)
    lang = i18n.request_language(request)
    case = store.get_case(s, member.who, case_id)
    item = store.get_item(s, member.who, case.item_id)
    people = reads.members(s, member.who)
    preview = publication.claimreview_for(s, case, rt.settings.base_url, lang) if case.rating else None
    return render(
        request,
        "case.html.j2",
        member=member,
        case=case,
        item=item,
        job=store.latest_job(s, item),
        comments=store.comments(s, case),
        names={u.id: u.name for u in people},
        people=[u for u in people if u.active],
        moves=sorted(CASE_TRANSITIONS[case.state] - {CaseState.PUBLISHED}),
        claimreview=preview,
        ratings=list(Rating),
        fact_check_url=links.fact_check_url(rt.settings.base_url, case) if case.slug else None,
        can_review=member.can(Role.REVIEWER),
        can_work=member.can(Role.ANALYST),
    )


@router.post("/cases/{case_id}/transition")
def move(
    request: Request, member: MemberDep, s: DbDep, case_id: int, to: Annotated[str, Form(max_length=12)]
) -> Response:
    store.transition(s, member.who, store.get_case(s, member.who, case_id), to)
    state = translate(request, labels.CASE_STATES.get(to, to))
    flash(request, "success", translate(request, "Case moved to “%(state)s”.") % {"state": state})
    return to_case(case_id)


@router.post("/cases/{case_id}/assign")
def assign(
    request: Request,
    member: MemberDep,
    s: DbDep,
    case_id: int,
    user_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    store.assign(
        s, member.who, store.get_case(s, member.who, case_id), int(user_id) if user_id.isdigit() else None
    )
    flash(request, "success", translate(request, "Assignment saved."))
    return to_case(case_id)


@router.post("/cases/{case_id}/comments")
def add_comment(
    request: Request, member: MemberDep, s: DbDep, case_id: int, body: Annotated[str, Form(max_length=20_000)]
) -> Response:
    store.comment(s, member.who, store.get_case(s, member.who, case_id), body)
    flash(request, "success", translate(request, "Comment added."))
    return RedirectResponse(f"/ui/cases/{case_id}#comments", status_code=303)


@router.post("/cases/{case_id}/rating")
def rate(
    request: Request,
    member: MemberDep,
    s: DbDep,
    case_id: int,
    rating: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    store.rate(s, member.who, store.get_case(s, member.who, case_id), rating, note.strip())
    flash(request, "success", translate(request, "Rating saved."))
    return to_case(case_id)


@router.post("/cases/{case_id}/publish")
def publish(
    request: Request,
    member: MemberDep,
    s: DbDep,
    case_id: int,
    confirm: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """Publish: fact-check page and ClaimReview, hashes into the known-fake bank, alerts queued. Publishing
    is final, so the form asks for an explicit confirmation first."""
    if confirm != "yes":
        raise UsageError(translate(request, "Tick the confirmation to publish: publishing is final."))
    rt = runtime(request)
    case = store.get_case(s, member.who, case_id)
    result = publication.publish(s, member.who, case, rt.settings.base_url)
    flash(
        request,
        "success",
        translate(request, "Published. Copies of this item now match the fact-check.")
        if result.entries_added
        else translate(request, "Published."),
    )
    return to_case(case_id)
