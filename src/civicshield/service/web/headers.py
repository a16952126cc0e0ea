"""Security headers on every response the service sends, set in one place (an ASGI middleware).

Pages are self-contained: scripts, styles and images come from this service only (htmx is vendored), so
the policy allows no inline script or style at all; a value that escaped escaping still cannot run. Only
the interactive API docs (``/docs``, ``/redoc``: FastAPI's pages, no user data) get a policy that lets
them load Swagger UI / ReDoc, which FastAPI takes from a CDN and starts with an inline script.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "SecurityHeaders"]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
_DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self' https://cdn.jsdelivr.net; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; worker-src blob:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'"
)
_DOCS_PATHS = ("/docs", "/redoc")
_COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


class SecurityHeaders:
    """Adds the content security policy and its companions to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        policy = _DOCS_POLICY if path.startswith(_DOCS_PATHS) else CONTENT_SECURITY_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", policy)
                for name, value in _COMMON.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
