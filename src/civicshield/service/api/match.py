"""Match API: does this file, or these hashes, match a known fake or registered official media?

Platforms that must not send content post hashes only (``/match/hashes``); batches take up to 1,000 items.
Results carry the fact-check link when the entry came from a published case. Every item that matches also
queues ``match.found`` (one event per item: to the asking organization's webhooks, and to each other owner
of a matched entry without saying who asked; see ``alerts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from civicshield.banks.verdict import BankVerdict
from civicshield.errors import UsageError
from civicshield.hashing.cache import MediaHashes, media_hashes
from civicshield.media import Media
from civicshield.service.api.schemas import FeedbackIn, HashIn, MatchBatch, MatchOut, MatchQuery, MatchResult
from civicshield.service.domain import alerts, banks, match_rates
from civicshield.service.domain.matches import LiveMatch
from civicshield.service.domain.principal import Principal
from civicshield.service.infra.runtime import Runtime
from civicshield.service.web.deps import DbDep, Matcher, Reviewer, RuntimeDep
from civicshield.service.web.uploads import UPLOAD_BODY, uploaded_file

router = APIRouter(prefix="/api/v1/match", tags=["match"])


def hashes_from(query: MatchQuery) -> MediaHashes:
    """Build the lookup key from posted hashes (one of each signal type at most)."""
    found: dict[str, HashIn] = {}
    for h in query.hashes:
        if h.signal_type in found:
            raise UsageError(f"give at most one {h.signal_type} hash per item")
        found[h.signal_type] = h
    texts = {kind: (h.hash, h.quality) for kind, h in found.items() if kind != "sha256"}
    return MediaHashes.from_texts(texts, sha256=found["sha256"].hash if "sha256" in found else "")


def _result(s: Session, base_url: str, found: list[LiveMatch]) -> MatchResult:
    out = [MatchOut(**alerts.match_doc(s, lm, base_url)) for lm in found[: alerts.MAX_MATCHES_IN_EVENT]]
    return MatchResult(matches=out, verdict=BankVerdict.of(m.match for m in found))


def _filtered(found: list[LiveMatch], query: MatchQuery | None) -> list[LiveMatch]:
    """Only the banks, owners and kinds the query names (each filter optional)."""
    if query is None:
        return found
    return [
        m
        for m in found
        if (query.banks is None or m.meta.bank_id in query.banks)
        and (query.owners is None or m.meta.owner_org_id in query.owners)
        and (query.kinds is None or m.match.bank_kind in query.kinds)
    ]


def _found(
    request: Request, who: Principal, items: list[MediaHashes], queries: Sequence[MatchQuery | None]
) -> list[tuple[MediaHashes, list[LiveMatch]]]:
    """Each item with what it matched (one search of the live index for them all)."""
    out = []
    for hashes, query, found in zip(
        items, queries, request.app.state.live.match_many(who.org_id, items), strict=True
    ):
        kept = _filtered(found, query)
        request.app.state.metrics.match_lookups.labels(outcome="match" if kept else "none").inc()
        out.append((hashes, kept))
    return out


def _answer(
    rt: Runtime, who: Principal, looked_up: list[tuple[MediaHashes, list[LiveMatch]]]
) -> list[MatchResult]:
    """The answers, queuing ``match.found`` for each item that matched. A look-up that matched nothing
    touches no database: the live index answers it from memory (most of a platform's traffic)."""
    if not any(found for _, found in looked_up):
        return [MatchResult(matches=[], verdict=BankVerdict.of([])) for _ in looked_up]
    base_url = rt.settings.base_url
    out = []
    with rt.db.session() as s:
        for hashes, found in looked_up:
            if found:
                asked = {"sha256": hashes.sha256 or None, "pdq": hashes.pdq.hex if hashes.pdq else None}
                alerts.matches_found(
                    s, who.org_id, found, base_url=base_url, source={"via": "match_api", **asked}
                )
            out.append(_result(s, base_url, found))
        match_rates.record(s, [m for _, found in looked_up for m in found])
    return out


@router.post("/hashes", response_model=MatchResult)
def match_hashes(body: MatchQuery, request: Request, rt: RuntimeDep, who: Matcher) -> MatchResult:
    return _answer(rt, who, _found(request, who, [hashes_from(body)], [body]))[0]


@router.post("/hashes/batch", response_model=list[MatchResult])
def match_batch(body: MatchBatch, request: Request, rt: RuntimeDep, who: Matcher) -> list[MatchResult]:
    queries = [hashes_from(q) for q in body.items]  # a malformed item refuses the batch before any event
    return _answer(rt, who, _found(request, who, queries, body.items))


@router.post("/file", response_model=MatchResult, openapi_extra=UPLOAD_BODY)
async def match_file(request: Request, rt: RuntimeDep, who: Matcher) -> MatchResult:
    """Hash the posted file (it is not stored) and look it up."""
    data, name = await uploaded_file(request, rt.settings.max_upload_bytes)

    def hash_and_look_up() -> MatchResult:  # decoding and hashing block: a worker thread, not the loop
        media = Media.from_bytes(data, name=name, limits=rt.settings.analysis.limits)
        return _answer(rt, who, _found(request, who, [media_hashes(media)], [None]))[0]

    return await run_in_threadpool(hash_and_look_up)


@router.post("/feedback")
def feedback(body: FeedbackIn, s: DbDep, who: Reviewer) -> dict[str, Any]:
    """Say whether a match was right (``confirmed``) or matched a genuine item (``false_positive``). An
    entry that several organizations report as false positives is quarantined until its owner reviews it."""
    row = banks.feedback(s, who, body.entry_id, body.verdict, body.note)
    return {
        "entry_id": row.id,
        "confirmations": row.confirmations,
        "false_positives": row.false_positives,
        "quarantined": row.disabled_at is not None and row.disabled_reason.startswith("quarantined"),
    }
