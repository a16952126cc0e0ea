"""Structured logs (issue 9, part 5): JSON lines with time, level, logger and the request's id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from civicshield.service.infra.logs import configure

from .conftest import World


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure("json", stream=stream)
    yield stream
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


def test_library_and_own_records_come_out_as_json_lines(captured: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").warning("listening on %s", "127.0.0.1:8000")
    with structlog.contextvars.bound_contextvars(request_id="r-42"):
        structlog.get_logger("civicshield.service.infra.jobs").info("job done", job_id=7)
    try:
        raise ValueError("bad media")
    except ValueError:
        logging.getLogger("civicshield.service.web.errors").exception(
            "unhandled error on %s", "/api/v1/items"
        )
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert lines[0]["event"] == "listening on 127.0.0.1:8000" and lines[0]["level"] == "warning"
    assert lines[0]["logger"] == "uvicorn.error" and lines[0]["timestamp"].endswith("Z")
    assert lines[1] == {**lines[1], "event": "job done", "job_id": 7, "request_id": "r-42", "level": "info"}
    assert "ValueError: bad media" in lines[2]["exception"]


def test_every_response_carries_a_request_id(world: World) -> None:
    given = world.client.get("/healthz", headers={"X-Request-ID": "trace-abc.1"})
    assert given.headers["x-request-id"] == "trace-abc.1"
    made = world.client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert made.headers["x-request-id"] != "<script>" and len(made.headers["x-request-id"]) == 16
