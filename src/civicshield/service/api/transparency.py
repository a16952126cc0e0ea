"""The public transparency log (issue 15): the latest signed tree head, entries, inclusion and consistency
proofs in RFC 9162's form, and the whole log as one file for ``civicshield transparency verify``. No sign-in:
the log holds public metadata only. Rate-limited like every anonymous route."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from civicshield.service.domain import statistics, transparency
from civicshield.service.infra.transparency_key import public_key_b64
from civicshield.service.web.deps import DbDep, RateLimit, RuntimeDep

router = APIRouter(prefix="/api/v1/transparency", tags=["transparency"], dependencies=[RateLimit])
Size = Annotated[int, Query(ge=0, le=2_147_483_647)]


@router.get("/head")
def head(rt: RuntimeDep) -> dict[str, Any]:
    """The signed tree head covering every entry, and the log's public key (Ed25519, base64 raw)."""
    with rt.db.session() as s:  # signing a new head writes it
        row = transparency.sign_head(s, rt.transparency_key)
        out = {"size": row.size, "root": row.root, "timestamp": row.timestamp, "signature": row.signature}
    return {
        **out,
        "public_key": public_key_b64(rt.transparency_key),
        "algorithm": "sha256 (RFC 9162), Ed25519",
    }


@router.get("/entries")
def entries(
    s: DbDep, start: Size = 0, end: Annotated[int | None, Query(ge=0)] = None
) -> list[dict[str, Any]]:
    """Entries ``start`` to ``end`` (exclusive), at most 1000 at a time."""
    return [
        {"seq": r.seq, "kind": r.kind, "at": r.at, "payload": r.payload}
        for r in transparency.entries(s, start, end)
    ]


@router.get("/proof/inclusion")
def inclusion(s: DbDep, seq: Size, tree_size: Size) -> dict[str, Any]:
    """The audit path of entry ``seq`` in the signed tree of ``tree_size`` entries."""
    return {"seq": seq, "tree_size": tree_size, "path": transparency.inclusion(s, seq, tree_size)}


@router.get("/proof/consistency")
def consistency(s: DbDep, first: Size, second: Size) -> dict[str, Any]:
    """That the signed tree of ``first`` entries is a prefix of the signed tree of ``second``."""
    return {"first": first, "second": second, "path": transparency.consistency(s, first, second)}


@router.get("/log")
def whole_log(rt: RuntimeDep) -> dict[str, Any]:
    """The whole log with every signed head, to verify independently (``civicshield transparency verify``)."""
    with rt.db.session() as s:
        transparency.sign_head(s, rt.transparency_key)
        return transparency.copy(s, public_key_b64(rt.transparency_key))


@router.get("/stats")
def stats(s: DbDep, year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> dict[str, Any]:
    """Public statistics: fact-checks per week, ratings, median time to publication, public bank entries
    (``year`` for one calendar year: the yearly transparency report)."""
    return statistics.stats(s, year=year).to_dict()


@router.get("/stats.csv", response_class=PlainTextResponse)
def stats_csv(s: DbDep, year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> PlainTextResponse:
    return PlainTextResponse(
        statistics.to_csv(statistics.stats(s, year=year)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="civicshield-fact-checks-per-week.csv"'},
    )
