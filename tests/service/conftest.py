"""Service fixtures: a real app over a real database, each test on a SQLite file and on PostgreSQL, and a real
webhook receiver on 127.0.0.1."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from civicshield.egress import LOOPBACK
from civicshield.errors import SigningError
from civicshield.service.app import create_app
from civicshield.service.domain import store
from civicshield.service.domain.security import use_password_hasher
from civicshield.service.settings import ServiceSettings
from civicshield.settings import Settings
from civicshield.sharing import verify_delivery

use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))  # speed; argon2id still

PG_ADMIN_URL = os.environ.get("CIVICSHIELD_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _fresh_pg_database() -> str:
    name = f"cs_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite'}"
        return
    url = _fresh_pg_database()
    yield url
    drop_pg_database(url)


@dataclass
class World:
    client: TestClient
    settings: ServiceSettings
    keys: dict[str, str]  # "<org>:<role>" -> API key
    ids: dict[str, int]


def _seed(app_settings: ServiceSettings, app) -> World:  # type: ignore[no-untyped-def]
    rt = app.state.rt
    keys: dict[str, str] = {}
    ids: dict[str, int] = {}
    with rt.db.session() as s:
        for org_name, kind in (("factcheck", "fact_checker"), ("other", "broadcaster")):
            org = store.create_org(s, f"{org_name}-org", kind)
            ids[org_name] = org.id
            for role in ("viewer", "analyst", "reviewer", "org_admin"):
                user = store.create_user(
                    s, org.id, f"{role}@{org_name}.test", role.title(), role, "correct horse battery"
                )
                ids[f"{org_name}:{role}:user"] = user.id
                key = store.create_api_key(
                    s,
                    store.principal_for(user),
                    f"{role} key",
                    ["read", "submit", "match", "review", "admin"],
                )
                keys[f"{org_name}:{role}"] = key.token
    return World(client=TestClient(app), settings=app_settings, keys=keys, ids=ids)


# The service's own behaviour does not depend on the ML detectors (tested in tests/analyzers); the core
# analyzers keep these tests fast and their machine labels independent of a detector's opinion of a drawing.
CORE_ANALYZERS = ("c2pa", "metadata", "watermark", "phash", "known_fakes", "official_media")


def core_analysis(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir / "analysis", analyzers=CORE_ANALYZERS)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret",
        webhook_allowed_networks=LOOPBACK,  # the test receivers listen on 127.0.0.1
        analysis=core_analysis(tmp_path / "data"),
        enforce_mfa=False,  # tests/service/test_mfa.py tests the enforcement; here admins sign in directly
    )
    app = create_app(settings)
    world = _seed(settings, app)
    yield world
    app.state.rt.db.dispose()


def auth(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.keys[who]}"}


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    reason: str | None

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """A subscriber's endpoint: verifies every delivery and answers from a script (then 200)."""

    secrets: list[str] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    got: list[Received] = field(default_factory=list)
    url: str = ""

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        try:
            verify_delivery(body, headers, secrets=self.secrets)
            verified, reason = True, None
        except SigningError as exc:
            verified, reason = False, str(exc.detail["reason"])
        self.got.append(Received(headers, body, verified, reason))
        if not verified:
            return 400, {}
        return self.script.pop(0) if self.script else (200, {})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, extra = state.answer(dict(self.headers.items()), body)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/civicshield"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


@dataclass
class Mailbox:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it is sent."""

    host: str
    port: int
    messages: list[Any] = field(default_factory=list)

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if m["To"] == address]

    def link(self, address: str) -> str:
        import re

        bodies = [m.get_content() for m in self.to(address)]
        found = [u for body in bodies for u in re.findall(r"https?://\S+", body)]
        assert found, f"no link was mailed to {address}: {bodies}"
        return found[-1]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    import socket
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    box = Mailbox("127.0.0.1", port)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 Message accepted"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield box
    controller.stop()
