"""Tipline webhooks (issue 13): Telegram and WhatsApp call these; no account, the platform's proof instead."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from civicshield.errors import NotFound
from civicshield.intake.channels import WhatsApp
from civicshield.service.tipline import channel_of, receive
from civicshield.service.web.deps import RuntimeDep

router = APIRouter(prefix="/tiplines", tags=["tiplines"])


async def _receive(name: str, request: Request, rt: RuntimeDep) -> dict[str, Any]:
    channel = channel_of(rt, name)
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    new = await run_in_threadpool(receive, rt, request.app.state.celery, channel, headers, body)
    return {"ok": True, "new": new}


@router.post("/telegram")
async def telegram(request: Request, rt: RuntimeDep) -> dict[str, Any]:
    """A Bot API update (``setWebhook`` with ``secret_token``)."""
    return await _receive("telegram", request, rt)


@router.post("/whatsapp")
async def whatsapp(request: Request, rt: RuntimeDep) -> dict[str, Any]:
    """A Cloud API notification, signed with the app secret (``X-Hub-Signature-256``)."""
    return await _receive("whatsapp", request, rt)


@router.get("/whatsapp", response_class=PlainTextResponse)
def whatsapp_verification(
    rt: RuntimeDep,
    mode: Annotated[str, Query(alias="hub.mode", max_length=40)] = "",
    token: Annotated[str, Query(alias="hub.verify_token", max_length=400)] = "",
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=400)] = "",
) -> str:
    """The dashboard's verification request: the challenge comes back when the verify token is right."""
    channel = channel_of(rt, "whatsapp")
    if not isinstance(channel, WhatsApp):
        raise NotFound("no whatsapp tipline here")
    return channel.challenge(mode, token, challenge)
