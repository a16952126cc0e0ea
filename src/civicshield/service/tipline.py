"""A tipline webhook call, end to end: proof, messages, media, requests, jobs, replies.

``receive`` checks the platform's proof first (nothing is read from an unproven call), reads the messages,
skips deliveries already handled (platforms retry; an attacker may replay), downloads each message's media
from the platform, submits each file like an upload (bad media is refused by the same checks, and the tip
is kept without it), records a request per file (or one for a text-only tip), queues the analyses, and
sends the replies already decided. A download that fails raises, so the platform retries the delivery
later: a tip is never acknowledged and then lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from celery import Celery
from sqlalchemy import select

from civicshield.errors import ConfigurationError, MediaError, NotFound
from civicshield.intake.channels import Channel, Inbound
from civicshield.service.domain import tips
from civicshield.service.domain.tables import ChannelEvent, Organization
from civicshield.service.infra.jobs import enqueue
from civicshield.service.infra.runtime import Runtime
from civicshield.service.infra.tiplines import channels, send_pending
from civicshield.service.submission import Submitted, store_submission

__all__ = ["channel_of", "receive"]


def channel_of(rt: Runtime, name: str) -> Channel:
    """The configured channel called ``name`` (404 when this deployment has no such tipline)."""
    found = channels(rt.settings).get(name)
    if found is None:
        raise NotFound(f"no {name} tipline here")
    return found


def _org_id(rt: Runtime) -> int:
    with rt.db.reading() as s:
        org_id = s.scalar(select(Organization.id).where(Organization.name == rt.settings.tiplines.org))
    if org_id is None:
        raise ConfigurationError(
            f"CIVICSHIELD_TIPLINE_ORG names no organization: {rt.settings.tiplines.org!r}"
        )
    return int(org_id)


def _handled(rt: Runtime, message: Inbound) -> bool:
    with rt.db.reading() as s:
        return (
            s.scalar(
                select(ChannelEvent.id).where(
                    ChannelEvent.channel == message.channel, ChannelEvent.event_id == message.event_id[:200]
                )
            )
            is not None
        )


def receive(rt: Runtime, celery: Celery, channel: Channel, headers: Mapping[str, str], body: bytes) -> int:
    """Handle one webhook call; how many new tips it held."""
    channel.verify(headers, body)
    messages = channel.parse(body)
    org_id = _org_id(rt)
    who = tips.tipline_principal(org_id)
    retention = dt.timedelta(days=rt.settings.retention.personal_data_days)
    new = 0
    for message in messages:
        if _handled(rt, message):
            continue
        files = [*message.files, *(channel.download(ref) for ref in message.media)]
        submitted: list[Submitted] = []
        for file in files:
            try:
                submitted.append(store_submission(rt, who, file.data, file.name))
            except MediaError:
                continue  # not media we can check: the tip is kept with its text
        with rt.db.session() as s:
            if tips.replayed(s, channel.name, message.event_id):
                continue
            requester = tips.pseudonym(rt.settings.secret_key, channel.name, message.sender)
            item_ids: list[int | None] = [sub.item_id for sub in submitted] or [None]
            for item_id in item_ids:
                tips.record(
                    s,
                    org_id,
                    channel=channel.name,
                    requester=requester,
                    address=message.address,
                    language=message.language,
                    text=message.text,
                    item_id=item_id,
                    retention=retention,
                )
            new += 1
        for sub in submitted:
            enqueue(celery, sub.job_id)
    send_pending(rt)
    return new
