"""Tips through Telegram and WhatsApp become requests, group into one case, and every requester hears the
outcome in their language (issue 13, parts 1, 3 and 4). The platforms are a local server implementing the
endpoints the adapters use, with payloads shaped as the platforms document them (Bot API ``Update``,
``getFile``, ``sendMessage``; Cloud API notification, media URL, ``/messages``). SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from civicshield.egress import LOOPBACK
from civicshield.service.app import create_app
from civicshield.service.domain import tips
from civicshield.service.domain.tables import Job, TipRequest
from civicshield.service.infra.jobs import run_job
from civicshield.service.infra.tiplines import send_pending
from civicshield.service.settings import ServiceSettings, TiplineSettings

from .conftest import World, _seed, auth, core_analysis
from .test_retro import _picture

TOKEN, SECRET, APP_SECRET, VERIFY = "123:abc", "tg-secret", "wa-app-secret", "wa-verify"


def _jpeg(crop: float = 0.0, scale: float = 1.0, quality: int = 90) -> bytes:
    image = _picture()
    w, h = image.size
    dx, dy = int(w * crop), int(h * crop)
    image = image.crop((dx, dy, w - dx, h - dy))
    if scale != 1.0:
        image = image.resize((int(image.width * scale), int(image.height * scale)))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


class Platforms:
    """Telegram's Bot API and WhatsApp's Cloud API, as far as the adapters use them."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.sent: list[tuple[str, str, str]] = []  # (channel, address, text)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path == f"/bot{TOKEN}/getFile":
                    file_id = query.split("file_id=", 1)[1]
                    result = {"file_id": file_id, "file_path": f"photos/{file_id}.jpg"}
                    return self._answer(200, json.dumps({"ok": True, "result": result}).encode())
                if path.startswith(f"/file/bot{TOKEN}/photos/"):
                    return self._answer(200, outer.files[path.rsplit("/", 1)[1][:-4]], "image/jpeg")
                if self.headers.get("Authorization") != "Bearer wa-token":
                    return self._answer(401, b"{}")
                if path.startswith("/v21.0/media-"):  # WhatsApp: media id -> URL
                    url = f"http://127.0.0.1:{outer.port}/download/{path.rsplit('/', 1)[1]}"
                    return self._answer(200, json.dumps({"url": url, "mime_type": "image/jpeg"}).encode())
                if path.startswith("/download/"):
                    return self._answer(200, outer.files[path.rsplit("/", 1)[1]], "image/jpeg")
                return self._answer(404, b"{}")

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == f"/bot{TOKEN}/sendMessage":
                    outer.sent.append(("telegram", str(body["chat_id"]), body["text"]))
                    return self._answer(200, b'{"ok": true, "result": {}}')
                if (
                    self.path == "/v21.0/4242/messages"
                    and self.headers.get("Authorization") == "Bearer wa-token"
                ):
                    outer.sent.append(("whatsapp", body["to"], body["text"]["body"]))
                    return self._answer(200, b'{"messages": [{"id": "wamid.out"}]}')
                return self._answer(404, b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def platforms() -> Iterator[Platforms]:
    found = Platforms()
    yield found
    found.close()


def _world(database_url: str, tmp_path: Path, **changes: Any) -> World:
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret",
        base_url="https://factcheck.example",
        analysis=core_analysis(tmp_path / "data"),
        enforce_mfa=False,
        **changes,
    )
    return _seed(settings, create_app(settings))


@pytest.fixture
def tip_world(database_url: str, tmp_path: Path, platforms: Platforms) -> Iterator[World]:
    api = f"http://127.0.0.1:{platforms.port}"
    tiplines = TiplineSettings(
        org="factcheck-org",
        networks=LOOPBACK,
        telegram_token=TOKEN,
        telegram_secret=SECRET,
        telegram_api=api,
        whatsapp_token="wa-token",
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY,
        whatsapp_phone_id="4242",
        whatsapp_api=f"{api}/v21.0",
    )
    world = _world(database_url, tmp_path, tiplines=tiplines)
    yield world
    world.client.app.state.rt.db.dispose()  # type: ignore[attr-defined]


def _telegram(world: World, update_id: int, user: int, lang: str, text: str, file_id: str | None) -> Any:
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": 1765000000,
        "chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": False, "first_name": "A", "language_code": lang},
    }
    if file_id:
        message["photo"] = [
            {"file_id": f"{file_id}-small", "file_unique_id": "s", "width": 90, "height": 67},
            {"file_id": file_id, "file_unique_id": "l", "width": 640, "height": 480},
        ]
        message["caption"] = text
    else:
        message["text"] = text
    return world.client.post(
        "/tiplines/telegram",
        content=json.dumps({"update_id": update_id, "message": message}),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )


def _whatsapp(
    world: World, wamid: str, number: str, media_id: str, caption: str, secret: str = APP_SECRET
) -> Any:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA-1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "3120000000", "phone_number_id": "4242"},
                            "contacts": [{"profile": {"name": "B"}, "wa_id": number}],
                            "messages": [
                                {
                                    "from": number,
                                    "id": wamid,
                                    "timestamp": "1765000000",
                                    "type": "image",
                                    "image": {"id": media_id, "mime_type": "image/jpeg", "caption": caption},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return world.client.post(
        "/tiplines/whatsapp",
        content=body,
        headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
    )


def _run_jobs(world: World) -> None:
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    with rt.db.reading() as s:
        queued = list(s.scalars(select(Job.id).where(Job.state == "queued")))
    for job_id in queued:
        assert run_job(rt, job_id) == "done"


def test_tips_through_both_channels_group_into_one_case_and_everyone_hears_the_outcome(
    tip_world: World, platforms: Platforms
) -> None:
    world = tip_world
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    platforms.files = {
        "orig": _jpeg(),
        "media-reenc": _jpeg(scale=0.75, quality=60),
        "crop": _jpeg(crop=0.02),
    }
    from civicshield.service.domain.tables import Organization
    from civicshield.sharing.tlp import TLP

    with (
        rt.db.session() as s
    ):  # cases opened from tips are public once published: they count in the statistics
        org = s.scalar(select(Organization).where(Organization.name == "factcheck-org"))
        assert org is not None
        org.default_tlp = TLP.CLEAR

    assert _telegram(world, 1, 501, "nl", "Is deze foto echt? Stembussen in brand", "orig").json()["new"] == 1
    _run_jobs(world)
    assert _whatsapp(world, "wamid.A1", "31611111111", "media-reenc", "is this real?").json()["new"] == 1
    assert _telegram(world, 2, 502, "fr", "C'est vrai ?", "crop").json()["new"] == 1
    _run_jobs(world)
    send_pending(rt)

    with rt.db.reading() as s:
        requests = list(s.scalars(select(TipRequest).order_by(TipRequest.id)))
        assert len(requests) == 3 and len({r.case_id for r in requests}) == 1  # one case
        case_id = requests[0].case_id
        assert case_id is not None
        asked = tips.demand(s, case_id)
        assert asked.requests == 3 and asked.channels == (("telegram", 2), ("whatsapp", 1))
        assert len({r.requester for r in requests}) == 3 and "501" not in {r.requester for r in requests}
    acknowledged = {(c, a): t for c, a, t in platforms.sent}
    assert acknowledged[("telegram", "501")].startswith("Dank u.")  # in the requester's language
    assert acknowledged[("whatsapp", "31611111111")].startswith("Thank you.")  # WhatsApp does not say
    assert acknowledged[("telegram", "502")].startswith("Merci.")

    case = world.client.get(f"/api/v1/cases/{case_id}", headers=auth(world, "factcheck:viewer")).json()
    assert case["requests"] == 3 and case["first_requested_at"]

    # a replayed delivery and forged calls change nothing
    assert _telegram(world, 1, 501, "nl", "Is deze foto echt?", "orig").json()["new"] == 0
    forged = world.client.post(
        "/tiplines/telegram",
        content=b'{"update_id": 9}',
        headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
    )
    assert forged.status_code == 403
    assert _whatsapp(world, "wamid.X", "31600000000", "media-reenc", "x", secret="wrong").status_code == 403
    challenge = "/tiplines/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token="
    assert world.client.get(challenge + VERIFY).text == "1158201444"
    assert world.client.get(challenge + "nope").status_code == 403

    # publishing answers all three, in their languages, with the link
    reviewer = auth(world, "factcheck:reviewer")
    for step in ({"to": "triage"}, {"to": "in_review"}):
        assert (
            world.client.post(f"/api/v1/cases/{case_id}/transition", json=step, headers=reviewer).status_code
            == 200
        )
    world.client.post(
        f"/api/v1/cases/{case_id}/rating", json={"rating": "false", "note": "n"}, headers=reviewer
    )
    platforms.sent.clear()
    assert world.client.post(f"/api/v1/cases/{case_id}/publish", headers=reviewer).status_code == 200
    send_pending(rt)
    told = {(c, a): t for c, a, t in platforms.sent}
    assert set(told) == {("telegram", "501"), ("whatsapp", "31611111111"), ("telegram", "502")}
    assert told[("telegram", "501")].startswith("Gefactcheckt: Onwaar")
    assert "https://factcheck.example/fact-checks/" in told[("telegram", "501")]
    assert told[("telegram", "502")].startswith("Vérifié : Faux")

    # a new tip of the same fake is answered at once
    platforms.files["again"] = _jpeg(quality=70)
    platforms.sent.clear()
    _telegram(world, 3, 503, "en", "seen this?", "again")
    _run_jobs(world)
    assert (
        platforms.sent
        and platforms.sent[0][1] == "503"
        and platforms.sent[0][2].startswith("Fact-checked: False")
    )

    # a text-only tip repeating the case's claim joins it; STOP opts out; a correction reaches the others
    platforms.sent.clear()
    _telegram(world, 5, 504, "nl", "Is deze foto echt? Stembussen in brand!", None)
    with rt.db.reading() as s:
        joined = s.scalar(
            select(TipRequest).where(TipRequest.requester == tips.pseudonym("test-secret", "telegram", "504"))
        )
        assert joined is not None and joined.case_id == case_id and joined.item_id is None
    send_pending(rt)
    assert platforms.sent[0][1] == "504" and platforms.sent[0][2].startswith("Gefactcheckt: Onwaar")
    _telegram(world, 4, 502, "fr", "STOP", None)
    platforms.sent.clear()
    corrected = world.client.post(
        f"/api/v1/cases/{case_id}/correction",
        json={"rating": "manipulated", "note": "The photo is real; the fire was added."},
        headers=reviewer,
    )
    assert corrected.status_code == 200
    send_pending(rt)
    told = {(c, a): t for c, a, t in platforms.sent}
    assert ("telegram", "502") not in told
    assert told[("telegram", "501")].startswith(
        "De factcheck waarnaar u vroeg is gecorrigeerd: Gemanipuleerd"
    )
    assert told[("whatsapp", "31611111111")].startswith("The fact-check you asked about was corrected")

    stats = world.client.get("/api/v1/transparency/stats").json()
    assert stats["requests"] == 5 and stats["channels"] == {"telegram": 4, "whatsapp": 1}
    assert stats["languages"] == {"": 1, "en": 1, "fr": 1, "nl": 2}  # WhatsApp does not say
    assert stats["corrections"] == 1 and stats["fact_checks"] == 1

    # after the retention period the personal data goes, the counts stay
    import datetime as dt

    with rt.db.session() as s:
        cleared = tips.purge_expired(s, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=365))
        assert cleared == 5  # every request (STOP made none)
        assert tips.demand(s, case_id).requests == 5
        assert all(r.address == "" and r.text == "" for r in s.scalars(select(TipRequest)))


def test_a_tip_whose_media_cannot_be_fetched_is_retried_not_lost(
    tip_world: World, platforms: Platforms
) -> None:
    """The platform's file server fails: the call answers 502 (so the platform delivers again) and keeps
    nothing half-done; the same delivery, once the file is there, becomes the tip."""
    world = tip_world
    failed = _telegram(world, 77, 601, "de", "Echt?", "missing")  # the platform has no such file (yet)
    assert failed.status_code == 502
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    with rt.db.reading() as s:
        assert s.scalars(select(TipRequest)).all() == []
    platforms.files["missing"] = _jpeg()
    again = _telegram(world, 77, 601, "de", "Echt?", "missing")
    assert again.status_code == 200 and again.json()["new"] == 1
    _run_jobs(world)
    send_pending(rt)
    assert platforms.sent == [("telegram", "601", tips.words("de", "received"))]


@pytest.fixture
def mail_world(database_url: str, tmp_path: Path, mailbox: Any) -> Iterator[World]:
    from civicshield.service.settings import MailSettings

    mail = MailSettings(host=mailbox.host, port=mailbox.port)
    world = _world(
        database_url, tmp_path, mail=mail, tiplines=TiplineSettings(org="factcheck-org", email=True)
    )
    yield world
    world.client.app.state.rt.db.dispose()  # type: ignore[attr-defined]


def test_a_tip_by_email_is_received_over_smtp_and_answered_by_mail(mail_world: World, mailbox: Any) -> None:
    """A real SMTP conversation with the tipline's receiver (aiosmtpd); the reply arrives at a real SMTP
    server. A message that is not one (no sender) is refused with a permanent error."""
    import smtplib
    import socket
    from email.message import EmailMessage

    from civicshield.service import tipline_smtp

    world = mail_world
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    receiver = tipline_smtp.start(rt, world.client.app.state.celery, "127.0.0.1", port)  # type: ignore[attr-defined]
    try:
        tip = EmailMessage()
        tip["From"] = "Leser <leser@example.org>"
        tip["To"] = "tips@factcheck.example"
        tip["Subject"] = "Ist dieses Foto echt?"
        tip["Message-ID"] = "<tip-1@example.org>"
        tip.set_content("Das wird gerade überall geteilt.")
        tip.add_attachment(_jpeg(), maintype="image", subtype="jpeg", filename="foto.jpg")
        tip["Content-Language"] = "de"  # after: the standard library drops it when it makes the mixed part
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(tip)
            smtp.send_message(tip)  # the same message again: one tip
            nameless = EmailMessage()
            nameless["Subject"] = "no sender"
            nameless.set_content("x")
            with pytest.raises(smtplib.SMTPDataError) as refused:
                smtp.sendmail("x@example.org", ["tips@factcheck.example"], nameless.as_bytes())
            assert refused.value.smtp_code == 550
    finally:
        receiver.stop()
    with rt.db.reading() as s:
        (request,) = s.scalars(select(TipRequest)).all()
        assert request.channel == "email" and request.language == "de" and request.item_id is not None
        assert "Ist dieses Foto echt?" in request.text
    _run_jobs(world)
    send_pending(rt)
    (reply,) = mailbox.to("leser@example.org")
    assert reply.get_content().strip() == tips.words("de", "received")


def _reencoded(source: Path, target: Path, size: tuple[int, int]) -> Path:
    """What a messaging app does to a clip: smaller, re-encoded, its sound dropped (PyAV)."""
    import av

    with av.open(str(source)) as src, av.open(str(target), mode="w") as dst:
        out = dst.add_stream("libx264", rate=10)
        out.width, out.height, out.pix_fmt = size[0], size[1], "yuv420p"
        for frame in src.decode(src.streams.video[0]):
            picture = av.VideoFrame.from_image(frame.to_image().resize(size))
            for packet in out.encode(picture):
                dst.mux(packet)
        for packet in out.encode():
            dst.mux(packet)
    return target


def test_two_tips_of_one_clip_at_different_sizes_join_one_case(
    tip_world: World, platforms: Platforms, tmp_path: Path
) -> None:
    """Video tips group by what the bank matcher calls the same clip (vPDQ), not only by identical bytes."""
    from civicshield.demo import synth

    world = tip_world
    big = synth.write_video(tmp_path / "big.mp4", seconds=3.0, size=(320, 240), text="RIOT")
    small = _reencoded(big, tmp_path / "small.mp4", (240, 180))
    other = synth.write_video(tmp_path / "other.mp4", seconds=3.0, size=(320, 240), seed=99, text="CALM")
    platforms.files.update(
        {"v-big": big.read_bytes(), "v-small": small.read_bytes(), "v-other": other.read_bytes()}
    )

    def video_tip(update_id: int, user: int, file_id: str) -> None:
        update = {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1765000000,
                "chat": {"id": user, "type": "private"},
                "from": {"id": user, "is_bot": False, "first_name": "C", "language_code": "en"},
                "video": {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "width": 320,
                    "height": 240,
                    "duration": 3,
                },
                "caption": "real?",
            },
        }
        r = world.client.post(
            "/tiplines/telegram",
            content=json.dumps(update),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        assert r.status_code == 200 and r.json()["new"] == 1, r.text
        _run_jobs(world)

    video_tip(10, 701, "v-big")
    video_tip(11, 702, "v-small")
    video_tip(12, 703, "v-other")
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        cases = [r.case_id for r in s.scalars(select(TipRequest).order_by(TipRequest.id))]
    assert cases[0] is not None and cases[0] == cases[1] != cases[2]
