"""Page routers: errors become pages (or a message on the page the form came from), never JSON.

The service's one error handler renders JSON for the API. Page routes use ``PageRoute`` instead, which
catches the same error tree around the whole request (dependencies included): nobody signed in → the login
page; a refused form (conflict, bad input, missing role) → back to the page the form was on with the message
shown there; anything else → an error page in the reader's language with the status code kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from civicshield.errors import CivicShieldError, CsrfFailed, RateLimited
from civicshield.service.pages import templating
from civicshield.service.pages.i18n import N_
from civicshield.service.pages.session import EnrolmentNeeded, LoginRequired, check_csrf, flash

log = logging.getLogger(__name__)
LOGIN_URL = "/ui/login"
HOME_URL = "/ui/"

TITLES = {
    400: N_("This request could not be handled"),
    401: N_("Please sign in"),
    403: N_("You are not allowed to do this"),
    404: N_("Not found"),
    409: N_("This is not possible right now"),
    413: N_("The file is too large"),
    415: N_("This type of file is not supported"),
    422: N_("Some fields are missing or wrong"),
    429: N_("Too many requests: please wait a minute"),
    500: N_("Something went wrong on our side"),
}


def back_url(request: Request, default: str = HOME_URL) -> str:
    """The page a form came from (same site only), so a refused action can show its message there."""
    ref = urlsplit(request.headers.get("referer", ""))
    if ref.netloc and ref.netloc != request.url.netloc:
        return default
    path = ref.path or default
    if not path.startswith("/") or path.startswith("//"):
        return default
    return path + (f"?{ref.query}" if ref.query else "")


def login_redirect(request: Request) -> Response:
    target = f"{LOGIN_URL}?next={quote(request.url.path)}"
    if templating.is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def error_page(request: Request, status: int, message: str) -> Response:
    title = templating.translate(request, TITLES.get(status, TITLES[500]))
    template = "_error_fragment.html.j2" if templating.is_htmx(request) else "error.html.j2"
    return templating.render(
        request, template, status=status, title=title, message=message, status_code=status
    )


def handle(request: Request, exc: Exception) -> Response:
    if isinstance(exc, LoginRequired):
        return login_redirect(request)
    if isinstance(exc, EnrolmentNeeded):
        return RedirectResponse("/ui/account/security", status_code=303)
    if isinstance(exc, RequestValidationError):
        status, message = (
            422,
            "; ".join(
                f"{'.'.join(map(str, e.get('loc', ())[1:]))}: {e.get('msg', '')}" for e in exc.errors()[:5]
            ),
        )
    elif isinstance(exc, CivicShieldError):
        status, message = exc.http_status, exc.message
    else:
        log.exception("unhandled error on page %s", request.url.path)
        status, message = 500, ""
    refused_form = (
        request.method == "POST" and status in {400, 403, 409, 422} and not isinstance(exc, CsrfFailed)
    )
    if refused_form and not templating.is_htmx(request) and not isinstance(exc, RateLimited):
        title = templating.translate(request, TITLES.get(status, TITLES[400]))
        flash(request, "error", f"{title}: {message}" if message else title)
        return RedirectResponse(back_url(request), status_code=303)
    return error_page(request, status, message)


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)
            except Exception as exc:
                return handle(request, exc)

        return handler


def page_router(prefix: str = "") -> APIRouter:
    """A router for HTML pages: errors as pages, CSRF checked on every unsafe method, kept out of OpenAPI."""
    return APIRouter(
        prefix=prefix, route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
    )
