"""Fixtures for the web interface: a seeded app for fast page tests, and a live server with Chromium.

The live server is the real app under uvicorn on 127.0.0.1 (ephemeral port) over a SQLite file, with a small
worker thread that runs queued analysis jobs (``jobs.run_job``) and due webhook deliveries, as the embedded
worker would. The browser is Debian's Chromium driven by Playwright (``scripts/install-browser.sh``); the
browser tests skip when it or the ``playwright`` package is missing. Screenshots go to ``out/ui-screenshots``.
"""

from __future__ import annotations

import io
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from civicshield.demo import synth
from civicshield.service.app import create_app
from civicshield.service.domain import publication, store
from civicshield.service.domain.security import use_password_hasher
from civicshield.service.domain.tables import Job
from civicshield.service.infra.jobs import run_job
from civicshield.service.infra.runtime import Runtime
from civicshield.service.settings import ServiceSettings
from civicshield.settings import Settings
from civicshield.signing import DEMO_CA_FILE, make_demo_signer

use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

PASSWORD = "correct horse battery"
ROLES = ("viewer", "analyst", "reviewer", "org_admin")
NAMES = {
    "viewer": "Vera Viewer",
    "analyst": "Anna Analyst",
    "reviewer": "Rita Reviewer",
    "org_admin": "Omar Admin",
}
CHROMIUM = Path(os.environ.get("CIVICSHIELD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "out" / "ui-screenshots"


def make_app(
    data_dir: Path, *, base_url: str = "http://testserver", ca: Path | None = None, rate: int = 1000
) -> FastAPI:
    core = ("c2pa", "metadata", "watermark", "phash", "known_fakes", "official_media")  # see tests/service
    analysis = Settings(data_dir=data_dir / "analysis", extra_trust_anchors=ca, analyzers=core)
    settings = ServiceSettings(
        data_dir=data_dir,
        secret_key="ui-test-secret",
        base_url=base_url,
        unauthenticated_rate_per_minute=rate,
        webhook_allowed_networks=("127.0.0.0/8",),  # the webhook receiver listens on 127.0.0.1
        analysis=analysis,
        enforce_mfa=False,  # tests/service/test_mfa.py tests the enforcement; here admins sign in directly
    )
    return create_app(settings)


def seed(app: FastAPI) -> dict[str, int]:
    """Two organizations, each with one member per role (``<role>@<org>.test``)."""
    ids: dict[str, int] = {}
    with app.state.rt.db.session() as s:
        for org_name, kind in (("factcheck", "fact_checker"), ("other", "broadcaster")):
            org = store.create_org(s, f"{org_name}-org", kind)
            ids[org_name] = org.id
            for role in ROLES:
                user = store.create_user(s, org.id, f"{role}@{org_name}.test", NAMES[role], role, PASSWORD)
                ids[f"{org_name}:{role}"] = user.id
    return ids


def poster_bytes(text: str, seed_value: int, size: tuple[int, int] = (700, 500)) -> bytes:
    buf = io.BytesIO()
    synth.poster(text, size=size, seed=seed_value).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def reencoded(data: bytes) -> bytes:
    """What a platform does to a re-shared copy: smaller, recompressed."""
    buf = io.BytesIO()
    img = Image.open(io.BytesIO(data))
    img.resize((img.width * 5 // 7, img.height * 5 // 7)).save(buf, format="JPEG", quality=60)
    return buf.getvalue()


def principal(app: FastAPI, user_id: int) -> Any:
    from civicshield.service.domain.tables import User

    with app.state.rt.db.session() as s:
        user = s.get(User, user_id)
        assert user is not None
        return store.principal_for(user)


def publish_fake(app: FastAPI, ids: dict[str, int], data: bytes, title: str, tlp: str = "CLEAR") -> str:
    """A published fact-check on ``data`` made through the store (not the pages); returns its slug."""
    from civicshield.service.submission import submit_bytes

    rt: Runtime = app.state.rt
    who = principal(app, ids["factcheck:reviewer"])
    done = submit_bytes(rt, app.state.celery, who, data, "fake.jpg")
    assert run_job(rt, done.job_id) == "done"
    with rt.db.session() as s:
        item = store.get_item(s, who, done.item_id)
        case = store.create_case(s, who, item, title, "It shows what it claims to show", tlp)
        store.transition(s, who, case, "triage")
        store.transition(s, who, case, "in_review")
        store.rate(s, who, case, "false", "Generated image.")
        publication.publish(s, who, case, rt.settings.base_url)
        return str(case.slug)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no CSRF field"
    return found.group(1)


# ---- fast page tests (TestClient) -------------------------------------------------------------------


@dataclass
class Pages:
    app: FastAPI
    ids: dict[str, int]
    client: TestClient

    def login(self, who: str = "factcheck:reviewer") -> str:
        """Sign ``client`` in as ``<org>:<role>``; returns the session's CSRF token."""
        org, role = who.split(":")
        page = self.client.get("/ui/login")
        r = self.client.post(
            "/ui/login",
            data={"email": f"{role}@{org}.test", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        assert r.status_code == 200 and r.url.path == "/ui/", r.text[:500]
        return csrf_of(r.text)


@pytest.fixture
def pages(tmp_path: Path) -> Iterator[Pages]:
    app = make_app(tmp_path / "data")
    yield Pages(app, seed(app), TestClient(app))
    app.state.rt.db.dispose()


# ---- live server + browser --------------------------------------------------------------------------


@dataclass
class Site:
    app: FastAPI
    url: str
    ids: dict[str, int]
    tmp: Path
    signer: tuple[Path, Path]
    received: list[dict[str, Any]] = field(default_factory=list)
    receiver_url: str = ""

    @property
    def rt(self) -> Runtime:
        rt: Runtime = self.app.state.rt
        return rt


def _worker(site: Site, stop: threading.Event) -> None:
    """Run queued analysis jobs and due webhook deliveries, like the embedded worker."""
    try:
        from civicshield.service.infra import delivery
    except ImportError:  # the webhooks work is not there
        delivery = None  # type: ignore[assignment]
    while not stop.wait(0.2):
        with site.rt.db.session() as s:
            queued = list(s.scalars(select(Job.id).where(Job.state == "queued")))
        for job_id in queued:
            run_job(site.rt, job_id)
        if delivery is not None:
            delivery.deliver_due(site.rt)


def _receiver(site: Site) -> tuple[Any, threading.Thread]:
    """A webhook receiver on another ephemeral port that keeps what it is sent."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            site.received.append({"headers": dict(self.headers.items()), "body": body})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="webhook-receiver")
    thread.start()
    site.receiver_url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    return server, thread


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    tmp = tmp_path_factory.mktemp("ui-site")
    chain, key = make_demo_signer(tmp / "signer", organization="Kiesraad")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = make_app(tmp / "data", base_url=url, ca=tmp / "signer" / DEMO_CA_FILE)
    site = Site(app=app, url=url, ids=seed(app), tmp=tmp, signer=(chain, key))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11"))
    serving = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="uvicorn")
    serving.start()
    stop = threading.Event()
    worker = threading.Thread(target=_worker, args=(site, stop), daemon=True, name="test-worker")
    worker.start()
    receiver, _ = _receiver(site)
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield site
    stop.set()
    server.should_exit = True
    serving.join(10)
    worker.join(10)
    receiver.shutdown()
    receiver.server_close()
    sock.close()
    app.state.rt.db.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install-browser.sh")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    """Screenshots are overwritten, never cleared: parallel workers (pytest -n) share the folder."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright (tests/ui)")
