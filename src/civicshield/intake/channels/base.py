"""What every tipline channel provides, and the bounded HTTP client they share."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from civicshield.egress import AddressNotAllowed, EgressPolicy, GuardedTransport
from civicshield.errors import RemoteFetchFailed

__all__ = ["Channel", "Downloaded", "Inbound", "PlatformClient"]

MAX_MEDIA_BYTES = 25 * 1024 * 1024
TIMEOUT_S = 20.0


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


class PlatformClient:
    """httpx through the egress guard, with a size cap on downloads and errors as ``RemoteFetchFailed``."""

    def __init__(self, networks: Iterable[str] = (), headers: Mapping[str, str] | None = None) -> None:
        self.policy = EgressPolicy.parse(networks)
        self.headers = dict(headers or {})

    def _client(self) -> httpx.Client:
        return httpx.Client(
            transport=GuardedTransport(self.policy),
            timeout=TIMEOUT_S,
            follow_redirects=False,
            trust_env=False,
            headers=self.headers,
        )

    def request(self, method: str, url: str, *, what: str, **kwargs: Any) -> bytes:
        try:
            with self._client() as client, client.stream(method, url, **kwargs) as response:
                if response.status_code >= 300:
                    raise RemoteFetchFailed(f"{what}: HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_MEDIA_BYTES:
                        raise RemoteFetchFailed(f"{what}: larger than {MAX_MEDIA_BYTES} bytes")
                return bytes(body)
        except AddressNotAllowed as exc:
            raise RemoteFetchFailed(f"{what}: {exc.message}") from exc
        except httpx.HTTPError as exc:
            raise RemoteFetchFailed(f"{what}: {type(exc).__name__}") from exc

    def json(self, method: str, url: str, *, what: str, **kwargs: Any) -> dict[str, Any]:
        try:
            value = json.loads(self.request(method, url, what=what, **kwargs))
        except ValueError as exc:
            raise RemoteFetchFailed(f"{what}: the answer is not JSON") from exc
        if not isinstance(value, dict):
            raise RemoteFetchFailed(f"{what}: the answer is not a JSON object")
        return value
