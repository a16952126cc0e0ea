"""The tipline channels a deployment configured, and the sender of queued replies (``TipReply`` rows).

Replies are written in the transaction that decided them (a tip answered, a case published) and sent here,
after the commit: by the webhook handler once it has stored the tips, by the analysis job once it placed
them, and by the delivery task the outbox wakes after a publication. A platform that refuses or is down
leaves the row ``pending`` for the next run, up to ``MAX_ATTEMPTS``, then ``failed`` with the reason.
"""

from __future__ import annotations

from sqlalchemy import select

from civicshield.errors import CivicShieldError
from civicshield.intake.channels import Channel, EmailTipline, Telegram, WhatsApp
from civicshield.service.domain.mailbox import Outgoing
from civicshield.service.domain.tables import TipReply, TipRequest, utcnow
from civicshield.service.infra.mail import Mailer
from civicshield.service.infra.runtime import Runtime
from civicshield.service.settings import ServiceSettings

__all__ = ["MAX_ATTEMPTS", "channels", "send_pending"]

MAX_ATTEMPTS = 5


def channels(service: ServiceSettings) -> dict[str, Channel]:
    """The channels whose credentials are configured (none while no organization receives tips)."""
    settings = service.tiplines
    if not settings.org:
        return {}
    found: dict[str, Channel] = {}
    if settings.email:
        mailer = Mailer(service.mail)
        found["email"] = EmailTipline(lambda to, text: _mail(mailer, to, text))
    if settings.telegram_token:
        found["telegram"] = Telegram(
            settings.telegram_token,
            settings.telegram_secret,
            api=settings.telegram_api,
            networks=settings.networks,
        )
    if settings.whatsapp_token:
        found["whatsapp"] = WhatsApp(
            settings.whatsapp_token,
            settings.whatsapp_app_secret,
            settings.whatsapp_verify_token,
            settings.whatsapp_phone_id,
            api=settings.whatsapp_api,
            networks=settings.networks,
        )
    return found


def _mail(mailer: Mailer, to: str, text: str) -> None:
    mailer.send(Outgoing(to=to, subject="Your tip / Uw tip / Votre signalement / Ihr Hinweis", body=text))


def send_pending(rt: Runtime, limit: int = 50) -> int:
    """Send up to ``limit`` pending replies; how many went out."""
    available = channels(rt.settings)
    sent = 0
    with rt.db.session() as s:
        rows = s.execute(
            select(TipReply, TipRequest)
            .join(TipRequest, TipReply.request_id == TipRequest.id)
            .where(TipReply.state == "pending")
            .order_by(TipReply.id)
            .limit(limit)
        ).all()
        for reply, request in rows:
            channel = available.get(request.channel)
            reply.attempts += 1
            try:
                if channel is None:
                    raise CivicShieldError(f"the {request.channel} channel is not configured")
                if not request.address:
                    raise CivicShieldError("the requester's address was cleared (retention)")
                channel.send(request.address, reply.text)
            except CivicShieldError as exc:
                reply.error = exc.message[:500]
                if reply.attempts >= MAX_ATTEMPTS or not request.address:
                    reply.state = "failed"
                continue
            reply.state, reply.sent_at, reply.error = "sent", utcnow(), ""
            sent += 1
    return sent
