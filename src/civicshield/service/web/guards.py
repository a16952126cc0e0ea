"""What the service checks before it reads a request body: credentials, then size.

``BodyLimit`` refuses a body over its limit from the declared ``Content-Length`` before reading, and while
streaming a chunked one; multipart uploads get ``max_upload_bytes``, every other body ``max_json_bytes``.
Its error is an ``HTTPException`` (413) so that FastAPI's body parsing lets it through instead of turning it
into a generic 400, as it did for a 1 GiB chunked upload.

``CredentialsFirst`` answers 401 at once to a request that would write through the API without any
credentials (no ``Authorization`` header, no session cookie): nothing of its body is read. Wrong credentials
are refused by the routes' dependencies, and upload routes read their file only after those have run
(``service.uploads``).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicshield.service.web import errors

__all__ = ["BodyLimit", "CredentialsFirst", "PayloadTooLarge"]

_SAFE = {"GET", "HEAD", "OPTIONS"}


class PayloadTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


class BodyLimit:
    """Refuse bodies over the limit before reading them (declared length) or while streaming them."""

    def __init__(self, app: ASGIApp, *, upload_limit: int, other_limit: int) -> None:
        self.app = app
        self.upload_limit = upload_limit
        self.other_limit = other_limit

    def _limit(self, headers: dict[bytes, bytes]) -> int:
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        return self.upload_limit if multipart else self.other_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        limit = self._limit(headers)
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(limit)(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(limit)
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watch)
        except PayloadTooLarge:  # raised outside the routes' error handling (e.g. by a middleware)
            if not started:
                await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> JSONResponse:
    return errors.error_response(413, "payload_too_large", f"request body over {limit} bytes")


class CredentialsFirst:
    """401 before any body is read for API writes that carry no credentials at all."""

    def __init__(self, app: ASGIApp, *, session_cookie: str, open_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.cookie = session_cookie.encode()
        self.open_paths = tuple(open_paths)  # where credentials are obtained; "/x/" covers what is below it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in _SAFE
            and str(scope.get("path", "")).startswith("/api/")
            and not self._open(str(scope.get("path", "")))
            and not self._has_credentials(dict(scope.get("headers", [])))
        ):
            response = errors.error_response(
                401, "unauthenticated", "log in or send an API key (Authorization: Bearer cs_...)"
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _open(self, path: str) -> bool:
        return any(path == p or (p.endswith("/") and path.startswith(p)) for p in self.open_paths)

    def _has_credentials(self, headers: dict[bytes, bytes]) -> bool:
        if headers.get(b"authorization"):
            return True
        return any(
            part.strip().startswith(self.cookie + b"=") for part in headers.get(b"cookie", b"").split(b";")
        )
