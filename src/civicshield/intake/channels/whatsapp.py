"""WhatsApp Cloud API tipline (https://developers.facebook.com/docs/whatsapp/cloud-api).

- Verification request: ``GET`` with ``hub.mode=subscribe``, ``hub.verify_token`` (the token the deployment
  set in the app dashboard) and ``hub.challenge``, which is echoed back.
- Event notifications: ``POST`` whose raw body is signed with the app secret, ``X-Hub-Signature-256:
  sha256=<hex HMAC-SHA256>``; an unsigned or wrongly signed call is refused. The body is
  ``{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {...}}]}]}``
  whose ``value.messages`` items have ``id`` (``wamid…``), ``from`` (the sender's number), ``type`` and a
  ``text.body`` or an ``image`` / ``video`` / ``audio`` / ``document`` / ``sticker`` object with a media
  ``id`` and an optional ``caption``. Status updates are ignored.
- Media: ``GET /<media id>`` (bearer token) answers ``{"url": …, "mime_type": …}``; the file is a ``GET`` of
  that URL with the same token.
- Reply: ``POST /<phone number id>/messages`` with ``{"messaging_product": "whatsapp", "to": …, "type":
  "text", "text": {"body": …}}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping

from civicshield.egress import GuardedClient
from civicshield.errors import Forbidden, RemoteFetchFailed, UsageError
from civicshield.intake.channels.base import Downloaded, Inbound

__all__ = ["WhatsApp"]

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "audio/ogg": "ogg",
}


class WhatsApp:
    name = "whatsapp"

    def __init__(
        self,
        token: str,
        app_secret: str,
        verify_token: str,
        phone_number_id: str,
        *,
        api: str = "https://graph.facebook.com/v21.0",
        networks: Iterable[str] = (),
    ) -> None:
        if not (token and app_secret and verify_token and phone_number_id):
            raise UsageError(
                "the WhatsApp tipline needs an access token, app secret, verify token and phone number id"
            )
        self.app_secret, self.verify_token = app_secret, verify_token
        self.phone_number_id, self.api = phone_number_id, api.rstrip("/")
        self.http = GuardedClient(networks, headers={"Authorization": f"Bearer {token}"})

    def challenge(self, mode: str, token: str, challenge: str) -> str:
        """The answer to the dashboard's verification request."""
        if mode != "subscribe" or not hmac.compare_digest(token.encode(), self.verify_token.encode()):
            raise Forbidden("wrong verify token")
        return challenge

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        given = headers.get("x-hub-signature-256", "")
        expected = "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Forbidden("not a call from WhatsApp (X-Hub-Signature-256 missing or wrong)")

    def parse(self, body: bytes) -> list[Inbound]:
        try:
            payload = json.loads(body)
            entries = payload["entry"]
            if payload.get("object") != "whatsapp_business_account" or not isinstance(entries, list):
                raise ValueError
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError("not a WhatsApp Business Account notification") from exc
        out = []
        for entry in entries:
            for change in (entry or {}).get("changes") or ():
                value = (change or {}).get("value") or {}
                for message in value.get("messages") or ():
                    if not isinstance(message, dict) or "id" not in message or "from" not in message:
                        raise UsageError("a WhatsApp message without id or from")
                    kind = str(message.get("type", ""))
                    media = message.get(kind) if kind in MEDIA_KINDS else None
                    text = (message.get("text") or {}).get("body") if kind == "text" else None
                    caption = media.get("caption") if isinstance(media, dict) else None
                    out.append(
                        Inbound(
                            channel=self.name,
                            event_id=str(message["id"]),
                            sender=str(message["from"]),
                            address=str(message["from"]),
                            language="",
                            text=str(text or caption or "")[:4000],
                            media=(str(media["id"]),) if isinstance(media, dict) and "id" in media else (),
                        )
                    )
        return out

    def download(self, media_id: str) -> Downloaded:
        info = self.http.json("GET", f"{self.api}/{media_id}", what="WhatsApp media")
        url = info.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise RemoteFetchFailed("WhatsApp media: no download URL")
        data, _ = self.http.fetch("GET", url, what="WhatsApp media download")
        extension = _EXTENSIONS.get(str(info.get("mime_type", "")).split(";")[0], "bin")
        return Downloaded(f"{media_id}.{extension}", data)

    def send(self, address: str, text: str) -> None:
        self.http.json(
            "POST",
            f"{self.api}/{self.phone_number_id}/messages",
            what="WhatsApp send",
            json={
                "messaging_product": "whatsapp",
                "to": address,
                "type": "text",
                "text": {"body": text[:4096]},
            },
        )
