"""``create_app(settings)``: the whole service wired from one settings object."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicshield import __version__
from civicshield.service import errors, ui
from civicshield.service.api import auth, banks, cases, items, match, public, taxii, webhooks
from civicshield.service.blobs import BlobStore
from civicshield.service.db.engine import Database, migrate
from civicshield.service.headers import SecurityHeaders
from civicshield.service.jobs import Runtime, bind_task, make_celery
from civicshield.service.ratelimit import RateLimiter
from civicshield.service.settings import ServiceSettings


class BodyLimit:
    """Refuse bodies over the limit before reading them (declared length) or while streaming them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            response = errors.error_response(
                413, "payload_too_large", f"request body over {self.limit} bytes"
            )
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            response = errors.error_response(
                413, "payload_too_large", f"request body over {self.limit} bytes"
            )
            await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.db_url)
    migrate(db.engine)
    rt = Runtime(settings=settings, db=db, blobs=BlobStore(settings.blob_dir))
    celery = make_celery(settings)
    bind_task(celery, rt)

    app = FastAPI(
        title="CivicShield",
        version=__version__,
        description="Coordinate the response to deepfakes: submissions, cases, fact-checks, "
        "shared banks of known fakes, TLP-aware sharing and alerts.",
    )
    app.state.settings = settings
    app.state.rt = rt
    app.state.celery = celery
    app.state.limiter = RateLimiter(settings.unauthenticated_rate_per_minute)
    app.state.live = rt.live
    errors.install(app)
    for router in (
        auth.router,
        items.router,
        cases.router,
        banks.router,
        match.router,
        public.router,
        webhooks.router,
        taxii.router,
    ):
        app.include_router(router)
    ui.install(app)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        """People land on the web interface (which sends them to sign in); machines read /docs."""
        return RedirectResponse("/ui/", status_code=303)

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="civicshield_session",
        same_site="lax",
        https_only=settings.base_url.startswith("https"),
        max_age=12 * 3600,
    )
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + 64 * 1024)
    app.add_middleware(SecurityHeaders)  # outermost: error responses get the headers too
    return app
