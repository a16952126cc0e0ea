"""Rendering pages: one Jinja2 environment per language, with Babel's translations and formats installed.

An environment per language (three, built lazily and cached) keeps the gettext functions fixed for the life
of the environment, so concurrent requests in different languages never share mutable translation state.
The library's report template is reachable under ``report/`` so the report page reuses its evidence macro.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader
from starlette.requests import Request
from starlette.responses import HTMLResponse

from civicshield import __version__
from civicshield.report.jinja import html_environment
from civicshield.service.pages import i18n, labels
from civicshield.service.pages.session import Member, pop_flashes
from civicshield.service.web.deps import csrf_token

STATIC_URL = "/ui/static"


@lru_cache(maxsize=len(i18n.LANGUAGES))
def environment(lang: str) -> Environment:
    loader = ChoiceLoader(
        [
            PackageLoader("civicshield.service.pages", "templates"),
            PrefixLoader({"report": PackageLoader("civicshield.report", "templates")}),
        ]
    )
    env = html_environment(loader, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    fmt = i18n.Formats(lang)
    env.filters.update(
        datetime=fmt.datetime,
        date=fmt.date,
        number=fmt.number,
        pct=fmt.percent,
        filesize=fmt.filesize,
        pretty_json=lambda v: json.dumps(v, indent=2, ensure_ascii=False),
    )
    env.globals.update(
        L=labels,
        verdict_symbol=labels.verdict_symbol,
        static=STATIC_URL,
        version=__version__,
        languages=i18n.LANGUAGES,
    )
    return env


def translate(request: Request, message: str) -> str:
    """Translate a message from Python code (flash messages) into the request's language."""
    return i18n.gettext(i18n.request_language(request), message)


def render(
    request: Request,
    template: str,
    *,
    member: Member | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    lang = i18n.request_language(request)
    if i18n.supported(request.query_params.get("lang")):
        request.session[i18n.SESSION_KEY] = lang  # a language picked from the menu sticks for the session
    csrf = csrf_token(request)
    html = (
        environment(lang)
        .get_template(template)
        .render(
            request=request,
            lang=lang,
            csrf=csrf,
            csrf_header=json.dumps({"X-CSRF-Token": csrf}),
            member=member,
            flashes=pop_flashes(request),
            path=request.url.path,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status, headers=headers)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
