"""What operators and orchestrators ask the service: is it ready, and with which lines of evidence."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from civicshield import __version__
from civicshield.service.infra.runtime import Runtime, lineup_file

__all__ = ["readiness"]


def _analyzers(rt: Runtime) -> dict[str, Any]:
    try:
        record = json.loads(lineup_file(rt.settings).read_text())
    except (OSError, ValueError):
        return {"status": "not loaded yet: no worker has analyzed an item since the data directory was made"}
    status = "degraded" if record.get("unavailable") else "complete"
    return {"status": status, **record}


def readiness(rt: Runtime) -> JSONResponse:
    """200 when the database answers, 503 when it does not; the analyzer lineup either way."""
    try:
        with rt.db.reading() as s:
            s.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError as exc:
        database = f"unavailable: {type(exc).__name__}"
    body = {
        "status": "ready" if database == "ok" else "not_ready",
        "version": __version__,
        "database": database,
        "analyzers": _analyzers(rt),
    }
    return JSONResponse(body, status_code=200 if database == "ok" else 503)
