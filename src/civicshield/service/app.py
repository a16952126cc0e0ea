"""``create_app(settings)``: the whole service wired from one settings object."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware

from civicshield import __version__
from civicshield.service import compose, pages
from civicshield.service.api import (
    admin,
    audit,
    auth,
    banks,
    cases,
    events,
    incidents,
    items,
    learning,
    match,
    notifications,
    programme,
    protection,
    public,
    taxii,
    tiplines,
    transparency,
    webhooks,
)
from civicshield.service.infra.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from civicshield.service.infra.metrics import Metrics
from civicshield.service.settings import ServiceSettings
from civicshield.service.web import errors
from civicshield.service.web.guards import BodyLimit, CredentialsFirst
from civicshield.service.web.headers import SecurityHeaders
from civicshield.service.web.ops import readiness
from civicshield.service.web.ratelimit import RateLimiter
from civicshield.service.web.request_ids import RequestId

SESSION_COOKIE = "civicshield_session"
#: API writes that need no credentials (they are how credentials are obtained); rate-limited per address.
OPEN_API_PATHS = (
    "/api/v1/session",
    "/api/v1/setup/",
    "/api/v1/invitations/",
    "/api/v1/password-resets",
    "/api/v1/password-resets/",
    "/api/v1/join-requests",
    "/api/v1/passkeys/",
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings.from_env()
    rt = compose.runtime(settings)
    celery = compose.queue(rt)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()  # the server's life: the live index follows the database in a thread
        rt.live.follow(stop)
        try:
            yield
        finally:
            stop.set()

    app = FastAPI(
        title="CivicShield",
        version=__version__,
        description="Coordinate the response to deepfakes: submissions, cases, fact-checks, "
        "shared banks of known fakes, TLP-aware sharing and alerts.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.rt = rt
    app.state.celery = celery
    app.state.limiter = RateLimiter(settings.unauthenticated_rate_per_minute)
    app.state.live = rt.live
    app.state.metrics = Metrics(rt)
    errors.install(app)
    for router in (
        auth.router,
        admin.router,
        audit.router,
        items.router,
        cases.router,
        banks.router,
        match.router,
        public.router,
        webhooks.router,
        taxii.router,
        protection.router,
        programme.router,
        programme.operators,
        events.router,
        events.kit,
        transparency.router,
        incidents.router,
        notifications.router,
        learning.router,
        tiplines.router,
    ):
        app.include_router(router)
    pages.install(app)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers (no database or model is touched)."""
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    def metrics() -> Response:
        """Prometheus metrics (aggregates only, no content); restrict who reaches it at your proxy."""
        return Response(app.state.metrics.render(), media_type=METRICS_CONTENT_TYPE)

    @app.get("/readyz", tags=["ops"])
    def readyz() -> JSONResponse:
        """Readiness: the database answers; and which analyzers the last process that loaded them could
        load, with the reason for each one it could not (a missing line of evidence, not an outage)."""
        return readiness(rt)

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        """People land on the web interface (which sends them to sign in); machines read /docs."""
        return RedirectResponse("/ui/", status_code=303)

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        same_site="lax",
        https_only=settings.base_url.startswith("https"),
        max_age=settings.sessions.max_age_s,
    )
    app.add_middleware(
        BodyLimit, upload_limit=settings.max_upload_bytes + 64 * 1024, other_limit=settings.max_json_bytes
    )
    app.add_middleware(CredentialsFirst, session_cookie=SESSION_COOKIE, open_paths=OPEN_API_PATHS)
    app.add_middleware(SecurityHeaders)  # error responses get the headers too
    app.add_middleware(RequestId)  # outermost: every log line of a request carries its id
    return app
