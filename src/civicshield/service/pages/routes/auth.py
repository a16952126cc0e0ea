"""Signing in and out, and choosing the interface language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import RedirectResponse, Response

from civicshield.errors import RateLimited, SecondFactorRequired, Unauthenticated
from civicshield.service.domain import store
from civicshield.service.pages import i18n
from civicshield.service.pages.routing import HOME_URL, back_url, page_router
from civicshield.service.pages.session import MaybeMemberDep, sign_in
from civicshield.service.pages.templating import render, translate
from civicshield.service.web import signin
from civicshield.service.web.deps import DbDep, RateLimit, end_session, runtime

router = page_router("/ui")


def safe_next(target: str | None) -> str:
    """Only paths of this interface: an open redirect after login would be a phishing tool."""
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME_URL


@router.get("/login")
def login_page(request: Request, member: MaybeMemberDep, next: str = HOME_URL) -> Response:
    if member is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html.j2", next=safe_next(next), email="", error="", ask_code=False)


@router.post("/login", dependencies=[RateLimit])
def login(
    request: Request,
    s: DbDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    code: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=500)] = HOME_URL,
) -> Response:
    rt = runtime(request)
    address = request.client.host if request.client else ""
    try:
        user = signin.authenticate(
            rt.db, rt.settings, email=email, password=password, code=code, address=address
        )
    except (Unauthenticated, RateLimited) as exc:
        if isinstance(exc, SecondFactorRequired):
            message = translate(request, "Enter the code from your authenticator app.")
        elif isinstance(exc, RateLimited):
            message = translate(request, "Too many failed sign-ins. Wait a little and try again.")
        else:
            message = translate(request, "Wrong email, password or code.")
        status = 429 if isinstance(exc, RateLimited) else 401
        return render(
            request,
            "login.html.j2",
            status=status,
            next=safe_next(next),
            email=email,
            error=message,
            ask_code=isinstance(exc, SecondFactorRequired) or bool(code),
        )
    sign_in(request, s, user)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, s: DbDep) -> Response:
    lang = request.session.get(i18n.SESSION_KEY)
    end_session(request, s)
    if lang:
        request.session[i18n.SESSION_KEY] = lang
    return RedirectResponse("/ui/login", status_code=303)


@router.post("/language")
def choose_language(
    request: Request, member: MaybeMemberDep, lang: Annotated[str, Form(max_length=5)]
) -> Response:
    """Remembered for the session, and on the person's account when signed in."""
    chosen = i18n.supported(lang) or i18n.DEFAULT
    if member is not None:
        with runtime(request).db.session() as s:
            store.set_language(s, member.who, chosen, frozenset(i18n.LANGUAGES))
    request.session[i18n.SESSION_KEY] = chosen
    target = back_url(request)
    if "lang=" in target:  # a ?lang= on the page we came from would override the new choice
        target = target.split("?", 1)[0]
    return RedirectResponse(target, status_code=303)
