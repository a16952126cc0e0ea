"""What every tipline channel provides. Their HTTP calls go through ``egress.GuardedClient`` (bounded, no
redirects, only the addresses the deployment allows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Channel", "Downloaded", "Inbound"]


@dataclass(frozen=True)
class Downloaded:
    name: str
    data: bytes


@dataclass(frozen=True)
class Inbound:
    """One message as the platform delivered it (nothing downloaded yet)."""

    channel: str
    event_id: str  # the platform's id of this delivery: a replay is recognised by it
    sender: str  # the platform's id of the person (kept only as a pseudonym)
    address: str  # where replies go (a chat id, a phone number)
    language: str  # the person's language when the platform says it ("nl"), else ""
    text: str
    media: tuple[str, ...]  # the platform's ids of the attached files
    files: tuple[Downloaded, ...] = ()  # files the message carried itself (e-mail attachments)


class Channel(Protocol):
    name: str

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """``Forbidden`` unless the call carries the platform's proof (secret token, signature)."""
        ...

    def parse(self, body: bytes) -> list[Inbound]:
        """The messages in a verified webhook body (``UsageError`` if it is not the platform's shape)."""
        ...

    def download(self, media_id: str) -> Downloaded:
        """One attached file, from the platform (``RemoteFetchFailed`` when that fails)."""
        ...

    def send(self, address: str, text: str) -> None:
        """A text reply to ``address`` (``RemoteFetchFailed`` when the platform refuses it)."""
        ...
