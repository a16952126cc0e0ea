"""The public transparency page (issue 15): what the coalition debunked and banked, week by week, the
latest signed head of the log, and how to check the log yourself. Open to everyone, like ``/verify``."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from civicshield.service.domain import statistics, transparency
from civicshield.service.infra.transparency_key import public_key_b64
from civicshield.service.pages.routing import page_router
from civicshield.service.pages.session import MaybeMemberDep
from civicshield.service.pages.templating import render
from civicshield.service.web.deps import RateLimit, runtime

router = page_router()
CHART_W, CHART_H = 640, 160


def _bars(per_week: tuple[tuple[str, int], ...]) -> list[dict[str, Any]]:
    """SVG bars (attributes only: the page's CSP forbids inline styles) for the last 26 weeks."""
    weeks = list(per_week)[-26:]
    top = max((n for _, n in weeks), default=0) or 1
    width = CHART_W / max(1, len(weeks))
    return [
        {"x": round(i * width + 2, 1), "w": round(width - 4, 1), "h": round(n / top * (CHART_H - 20), 1),
         "y": round(CHART_H - n / top * (CHART_H - 20), 1), "week": week, "n": n}
        for i, (week, n) in enumerate(weeks)
    ]  # fmt: skip


@router.get("/transparency", dependencies=[RateLimit])
def transparency_page(request: Request, member: MaybeMemberDep) -> Response:
    rt = runtime(request)
    with rt.db.session() as s:
        head = transparency.sign_head(s, rt.transparency_key)
        data = statistics.stats(s)
        signed = {"size": head.size, "root": head.root, "timestamp": head.timestamp}
    return render(
        request,
        "transparency.html.j2",
        member=member,
        stats=data,
        bars=_bars(data.per_week),
        chart_w=CHART_W,
        chart_h=CHART_H,
        head=signed,
        key=public_key_b64(rt.transparency_key),
        base=rt.settings.base_url.rstrip("/"),
    )
