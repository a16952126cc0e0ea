"""Unknown addresses under ``/ui/`` answer with a page, not the API's JSON 404 (included last)."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from civicshield.errors import NotFound
from civicshield.service.pages.routing import page_router

router = page_router("/ui")


@router.get("/{rest:path}")
def not_found(request: Request, rest: str) -> Response:
    raise NotFound("there is no page at this address")
