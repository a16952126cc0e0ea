"""Reading an uploaded file only once the caller is known, and never more of it than the limit.

Why the routes do not declare ``file: UploadFile``: FastAPI reads and parses a declared body before it
solves the route's dependencies, so an anonymous 150 MiB upload was spooled to disk before its 401, and a
body over the limit surfaced as FastAPI's generic 400. Routes take the ``Request`` instead and call
``uploaded_file`` after their authorization dependency has run; ``UPLOAD_BODY`` documents the form in
OpenAPI as before. Hashing and storing run in a worker thread (``run_in_threadpool``), off the event loop.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from civicshield.errors import MediaTooLarge, UsageError

__all__ = ["UPLOAD_BODY", "read_limited", "uploaded_file"]

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


async def uploaded_file(request: Request, limit: int, field: str = "file") -> tuple[bytes, str]:
    """The bytes and name of the one file in ``field`` of a multipart body (``MediaTooLarge`` over
    ``limit``, ``UsageError`` when the body is not such a form)."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise UsageError(f"send the file as multipart/form-data in the field {field!r}")
    async with request.form(max_files=1, max_fields=20) as form:  # closes the spooled files after
        upload = form.get(field)
        if not isinstance(upload, UploadFile):
            raise UsageError(f"the form has no file in the field {field!r}")
        return await read_limited(upload, limit), upload.filename or "upload"


async def read_limited(upload: UploadFile, limit: int) -> bytes:
    """At most ``limit`` bytes of ``upload``; ``MediaTooLarge`` if it holds more."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise MediaTooLarge(f"upload is over the limit of {limit} bytes")
    return data
