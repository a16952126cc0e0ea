"""Structured logs for ``serve`` and ``worker`` (``structlog``): one JSON object per line, for log shippers.

Every record, ours and the libraries' (uvicorn, Celery, SQLAlchemy), goes through one handler on the root
logger and comes out with ``timestamp`` (UTC), ``level``, ``logger`` and ``event``, plus ``request_id`` for
lines written while handling a request (``web.request_ids.RequestId``; the same id is sent back in
``X-Request-ID``). ``CIVICSHIELD_LOG_FORMAT=text`` gives readable lines instead (the default on a terminal).
"""

from __future__ import annotations

import logging
import sys
from typing import IO

import structlog

from civicshield.service.settings import LogFormat

__all__ = ["configure"]


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
