"""The e-mail tipline: tips mailed to an address whose mail the deployment's SMTP receiver accepts.

A message is read within the bounds of ``protection.email.read_email`` (size, header size, parts, nesting:
MIME bombs are refused); its images, video and audio attachments are the tip's media, its subject and first
text part the tip's text, ``Content-Language`` its language, ``Message-ID`` the delivery id (a message sent
twice is one tip). Replies go to the ``From`` address through the deployment's mail sender. E-mail carries
no proof of origin that the service could check, so there is nothing to verify: anyone may send a tip, as
anyone may write to a fact-checker's address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

from civicshield.errors import UsageError
from civicshield.intake.channels.base import Downloaded, Inbound
from civicshield.protection.email import read_email

__all__ = ["EmailTipline"]

MEDIA = ("image/", "video/", "audio/")


class EmailTipline:
    name = "email"

    def __init__(self, send: Callable[[str, str], None]) -> None:
        self._send = send

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Nothing to check (see the module text); the message is still read within bounds."""

    def parse(self, body: bytes) -> list[Inbound]:
        facts = read_email(body)
        if "@" not in facts.sender_address:
            raise UsageError("a tip by e-mail needs a From address to answer")
        files = tuple(
            Downloaded(a.filename or "attachment", a.data)
            for a in facts.attachments
            if a.content_type.startswith(MEDIA)
        )
        text = "\n".join(t for t in (facts.subject, facts.text.strip()) if t)
        return [
            Inbound(
                channel=self.name,
                event_id=facts.message_id or hashlib.sha256(body).hexdigest(),
                sender=facts.sender_address,
                address=facts.sender_address,
                language=facts.language,
                text=text[:4000],
                media=(),
                files=files,
            )
        ]

    def download(self, media_id: str) -> Downloaded:
        raise UsageError("e-mail tips carry their files; there is nothing to download")

    def send(self, address: str, text: str) -> None:
        self._send(address, text)
