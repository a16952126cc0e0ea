"""E-mail as the domain sees it: a message, and a postbox that takes it (``infra.mail.Mailer``: SMTP)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    to: str
    subject: str
    body: str


class Postbox(Protocol):
    @property
    def enabled(self) -> bool:
        """Whether mail can be sent at all (a deployment without an SMTP server sends none)."""
        ...

    def send(self, mail: Outgoing) -> None:
        """Deliver ``mail``; ``ConfigurationError`` when it cannot be sent."""
        ...
