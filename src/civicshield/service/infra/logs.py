"""Structured logs for ``serve`` and ``worker`` (``structlog``): one JSON object per line, for log shippers.

Every record, ours and the libraries' (uvicorn, Celery, SQLAlchemy), goes through one handler on the root
logger and comes out with ``timestamp`` (UTC), ``level``, ``logger`` and ``event``, plus ``request_id`` for
lines written while handling a request (``RequestId`` middleware; the same id is sent back in
``X-Request-ID``). ``CIVICSHIELD_LOG_FORMAT=text`` gives readable lines instead (the default on a terminal).
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
from typing import IO, Literal

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestId", "configure"]

LogFormat = Literal["json", "text"]
_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def configure(fmt: LogFormat | None = None, level: int = logging.INFO, stream: IO[str] | None = None) -> None:
    """Route every log record through structlog's formatter (JSON, or text on a terminal by default)."""
    stream = stream or sys.stderr
    fmt = fmt or ("text" if stream.isatty() else "json")
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


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
