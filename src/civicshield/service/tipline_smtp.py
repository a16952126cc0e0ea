"""The e-mail tipline's SMTP receiver (``civicshield tipline-smtp``): aiosmtpd accepts mail for the tipline
address and hands each message to ``tipline.receive`` in a worker thread.

SMTP answers carry the outcome: ``250`` once the tip is stored, ``550`` for a message that is not one we can
read (too large, a MIME bomb, no sender: retrying will not help), ``451`` when something on our side failed
(the sending server keeps the message and tries again later, so nothing is lost).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.controller import Controller
from celery import Celery

from civicshield.errors import CivicShieldError, UsageError
from civicshield.service.infra.runtime import Runtime
from civicshield.service.tipline import channel_of, receive

__all__ = ["MAX_MESSAGE_BYTES", "TiplineHandler", "start"]

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 25 * 1024 * 1024


class TiplineHandler:
    def __init__(self, rt: Runtime, celery: Celery) -> None:
        self.rt, self.celery = rt, celery

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content or b"")
        try:
            channel = channel_of(self.rt, "email")
            await asyncio.to_thread(receive, self.rt, self.celery, channel, {}, raw)
        except UsageError as exc:  # not a message we can read: retrying will not help
            return f"550 5.6.0 {exc.message[:200]}"
        except CivicShieldError as exc:
            log.warning("e-mail tip deferred: %s", exc.message)
            return "451 4.3.0 try again later"
        return "250 2.0.0 tip received"


def start(rt: Runtime, celery: Celery, host: str, port: int) -> Controller:
    """A running receiver (``stop()`` it); messages over ``MAX_MESSAGE_BYTES`` are refused by SMTP itself."""
    controller = Controller(
        TiplineHandler(rt, celery), hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES
    )
    controller.start()
    return controller
