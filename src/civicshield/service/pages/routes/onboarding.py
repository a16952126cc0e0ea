"""The pages behind one-time links: the first operator's set-up, accepting an invitation, a new password.

The work is ``service.onboarding``'s; a link that is used, expired or unknown shows the same message.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Request
from starlette.responses import RedirectResponse, Response

from civicshield.errors import CivicShieldError
from civicshield.service.domain import onboarding
from civicshield.service.infra.mail import Mailer
from civicshield.service.pages.routing import HOME_URL, page_router
from civicshield.service.pages.session import flash, sign_in
from civicshield.service.pages.templating import render, translate
from civicshield.service.web.deps import DbDep, RateLimit, runtime

router = page_router("/ui")
Token = Annotated[str, Path(min_length=20, max_length=100)]


def _texts(request: Request, purpose: str) -> tuple[str, str, bool, bool]:
    """Heading, button, and whether the page asks for an e-mail address and a name."""
    if purpose == "setup":
        return (
            translate(request, "Create the first operator account"),
            translate(request, "Create account"),
            True,
            True,
        )
    if purpose == "invite":
        return translate(request, "Join CivicShield"), translate(request, "Join"), False, True
    return translate(request, "Choose a new password"), translate(request, "Save password"), False, False


def _page(
    request: Request, purpose: str, token: str, status: int = 200, error: str = "", **values: str
) -> Response:
    heading, button, ask_email, ask_name = _texts(request, purpose)
    target = None
    try:
        with runtime(request).db.reading() as s:
            target = onboarding.describe(s, token, purpose)
    except CivicShieldError as exc:
        error, status = exc.message, exc.http_status
    return render(
        request,
        "account_link.html.j2",
        status=status,
        heading=heading,
        button=button,
        ask_email=ask_email,
        ask_name=ask_name,
        target=target,
        error=error,
        email=values.get("email", ""),
        name=values.get("name", ""),
    )


@router.get("/setup/{token}")
def setup_page(request: Request, token: Token) -> Response:
    return _page(request, "setup", token)


@router.get("/invitations/{token}")
def invitation_page(request: Request, token: Token) -> Response:
    return _page(request, "invite", token)


@router.get("/reset/{token}")
def reset_page(request: Request, token: Token) -> Response:
    return _page(request, "reset", token)


@router.post("/setup/{token}", dependencies=[RateLimit])
def setup(
    request: Request,
    token: Token,
    email: Annotated[str, Form(max_length=320)],
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    try:
        with runtime(request).db.session() as s:
            user = onboarding.complete_setup(s, token, email=email, name=name, password=password)
            sign_in(request, s, user)
    except CivicShieldError as exc:
        return _page(
            request, "setup", token, status=exc.http_status, error=exc.message, email=email, name=name
        )
    return RedirectResponse(HOME_URL, status_code=303)


@router.post("/invitations/{token}", dependencies=[RateLimit])
def accept(
    request: Request,
    token: Token,
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    try:
        with runtime(request).db.session() as s:
            user = onboarding.accept_invitation(s, token, name=name, password=password)
            sign_in(request, s, user)
    except CivicShieldError as exc:
        return _page(request, "invite", token, status=exc.http_status, error=exc.message, name=name)
    return RedirectResponse(HOME_URL, status_code=303)


@router.post("/reset/{token}", dependencies=[RateLimit])
def reset(request: Request, token: Token, password: Annotated[str, Form(max_length=1000)]) -> Response:
    try:
        with runtime(request).db.session() as s:
            onboarding.complete_reset(s, token, password)
    except CivicShieldError as exc:
        return _page(request, "reset", token, status=exc.http_status, error=exc.message)
    flash(request, "success", translate(request, "Password changed. Sign in with the new one."))
    return RedirectResponse("/ui/login", status_code=303)


@router.get("/forgot")
def forgot_page(request: Request) -> Response:
    return render(request, "forgot.html.j2", sent=False)


@router.post("/forgot", dependencies=[RateLimit])
def forgot(request: Request, s: DbDep, email: Annotated[str, Form(max_length=320)]) -> Response:
    """Mail a reset link if the address has an account; the page says the same either way."""
    rt = runtime(request)
    onboarding.request_reset(s, Mailer(rt.settings.mail), rt.settings.base_url, email)
    return render(request, "forgot.html.j2", sent=True)
