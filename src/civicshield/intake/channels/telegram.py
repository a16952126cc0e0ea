"""Telegram Bot API tipline (https://core.telegram.org/bots/api).

- Webhook (``setWebhook`` with ``secret_token``): every call carries ``X-Telegram-Bot-Api-Secret-Token``;
  a call without the secret is refused. The body is an ``Update``: ``update_id`` and a ``message`` (or
  ``edited_message``) with ``chat.id``, ``from.id``, ``from.language_code``, ``text`` or ``caption``, and a
  ``photo`` (array of sizes: the last is the largest), ``document``, ``video``, ``voice``, ``audio`` or
  ``animation`` object holding a ``file_id``. Other update kinds are ignored.
- Download: ``getFile?file_id=…`` answers ``{"ok": true, "result": {"file_path": …}}``; the file is at
  ``<api>/file/bot<token>/<file_path>``.
- Reply: ``sendMessage`` with ``chat_id`` and ``text``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

from civicshield.egress import GuardedClient
from civicshield.errors import Forbidden, RemoteFetchFailed, UsageError
from civicshield.intake.channels.base import Downloaded, Inbound

__all__ = ["Telegram"]

FILE_KINDS = ("document", "video", "voice", "audio", "animation", "video_note")


class Telegram:
    name = "telegram"

    def __init__(
        self, token: str, secret: str, *, api: str = "https://api.telegram.org", networks: Iterable[str] = ()
    ) -> None:
        if not token or not secret:
            raise UsageError("the Telegram tipline needs a bot token and a webhook secret")
        self.token, self.secret, self.api = token, secret, api.rstrip("/")
        self.http = GuardedClient(networks)

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        given = headers.get("x-telegram-bot-api-secret-token", "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            raise Forbidden("not a call from Telegram (secret token missing or wrong)")

    def parse(self, body: bytes) -> list[Inbound]:
        try:
            update = json.loads(body)
            update_id = int(update["update_id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError("not a Telegram update (update_id missing)") from exc
        message = update.get("message") or update.get("edited_message")
        if not isinstance(message, dict):
            return []
        chat, sender = message.get("chat") or {}, message.get("from") or {}
        if "id" not in chat:
            raise UsageError("a Telegram message without chat.id")
        return [
            Inbound(
                channel=self.name,
                event_id=str(update_id),
                sender=str(sender.get("id", chat["id"])),
                address=str(chat["id"]),
                language=str(sender.get("language_code", ""))[:8],
                text=str(message.get("text") or message.get("caption") or "")[:4000],
                media=tuple(self._files(message)),
            )
        ]

    @staticmethod
    def _files(message: Mapping[str, Any]) -> list[str]:
        out = []
        photos = message.get("photo")
        if isinstance(photos, list) and photos and isinstance(photos[-1], dict):
            out.append(str(photos[-1]["file_id"]))
        for kind in FILE_KINDS:
            found = message.get(kind)
            if isinstance(found, dict) and "file_id" in found:
                out.append(str(found["file_id"]))
        return out

    def download(self, media_id: str) -> Downloaded:
        what = "Telegram getFile"
        answer = self.http.json(
            "GET", f"{self.api}/bot{self.token}/getFile", what=what, params={"file_id": media_id}
        )
        path = (answer.get("result") or {}).get("file_path") if answer.get("ok") else None
        if not isinstance(path, str) or not path or ".." in path:
            raise RemoteFetchFailed(f"{what}: no file path for {media_id[:40]}")
        data, _ = self.http.fetch(
            "GET", f"{self.api}/file/bot{self.token}/{path}", what="Telegram file download"
        )
        return Downloaded(path.rsplit("/", 1)[-1], data)

    def send(self, address: str, text: str) -> None:
        answer = self.http.json(
            "POST",
            f"{self.api}/bot{self.token}/sendMessage",
            what="Telegram sendMessage",
            json={"chat_id": address, "text": text[:4096]},
        )
        if not answer.get("ok"):
            raise RemoteFetchFailed(
                f"Telegram sendMessage: {str(answer.get('description', 'refused'))[:200]}"
            )
