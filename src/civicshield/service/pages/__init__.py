"""Server-rendered web interface: Jinja2 pages, a little htmx, no front-end build.

``install(app)`` mounts the static files (styles, the page script and the vendored htmx) under
``/ui/static`` and the page routers: ``/ui/...`` for signed-in members of an organization and ``/verify``
for anyone. Pages reuse the API's building blocks (store, banks, publication, jobs) rather than calling the
API over HTTP, so a page and the API can never disagree about who may see or do what.
"""

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from civicshield.service.pages.routes import (
    account,
    admin,
    auth,
    banks,
    cases,
    coalition,
    dashboard,
    events,
    fallback,
    items,
    onboarding,
    protection,
    public,
    transparency,
)

STATIC_DIR = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Mount the UI's routes and static files on ``app``."""
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="ui-static")
    for module in (
        auth,
        onboarding,
        account,
        dashboard,
        items,
        cases,
        banks,
        admin,
        coalition,
        protection,
        events,
        public,
        transparency,
        fallback,
    ):
        app.include_router(module.router)
