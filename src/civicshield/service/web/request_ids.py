"""A request id on every request, bound to the log context (``infra.logs``), sent back in ``X-Request-ID``."""

from __future__ import annotations

import re
import secrets

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestId"]

_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestId:
    """A request id for every request (the caller's ``X-Request-ID`` if sane, else a new one), bound to the
    log context while the request is handled and returned in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = sent if _ID.match(sent) else secrets.token_hex(8)

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, with_id)
