"""Remotely stored Content Credentials: never fetched unless asked, fetched only where allowed, cached.

The asset is signed here with c2pa's own Builder (manifest not embedded, a remote URL instead) and its
manifest store is served by a real HTTP server on 127.0.0.1; whether the fetched store validates is c2pa's
answer, not ours.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import c2pa
import pytest

from civicshield.analyzers.c2pa import C2paAnalyzer
from civicshield.demo import synth
from civicshield.media import Media
from civicshield.provenance.demo_signer import make_demo_signer
from civicshield.provenance.reader import read_credentials
from civicshield.provenance.report import ReadErrorCode, ValidationState
from civicshield.settings import Settings


@dataclass
class Server:
    url: str
    bodies: dict[str, bytes]
    hits: list[str] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server("", {})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            body = state.bodies.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/c2pa")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def remote_asset(tmp_path: Path, server: Server) -> tuple[bytes, Path]:
    """A JPEG whose signed manifest is stored at ``server.url + /m.c2pa``, and the demo CA that signed it."""
    chain, key = make_demo_signer(tmp_path / "signer")
    picture = synth.save_image(synth.poster("REMOTE", size=(400, 300)), tmp_path / "p.jpg")
    manifest = {
        "claim_generator_info": [{"name": "civicshield-tests", "version": "1"}],
        "title": "p.jpg",
        "format": "image/jpeg",
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
                        }
                    ]
                },
            }
        ],
    }
    out = io.BytesIO()
    info = c2pa.C2paSignerInfo(b"es256", chain.read_bytes(), key.read_bytes(), None)
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder, picture.open("rb") as src:
        builder.set_no_embed()
        builder.set_remote_url(f"{server.url}/m.c2pa")
        store = builder.sign(signer, "image/jpeg", src, out)
    server.bodies["/m.c2pa"] = bytes(store)
    return out.getvalue(), tmp_path / "signer" / "demo-ca.pem"


def test_offline_by_default_nothing_is_fetched(remote_asset: tuple[bytes, Path], server: Server) -> None:
    data, _ = remote_asset
    report = read_credentials(data, "image/jpeg", settings=Settings())
    assert report.error is not None and report.error.code is ReadErrorCode.REMOTE_MANIFEST
    assert report.error.remote_url == f"{server.url}/m.c2pa"
    assert server.hits == []


def test_a_private_address_is_refused_unless_allowed(
    remote_asset: tuple[bytes, Path], server: Server, tmp_path: Path
) -> None:
    data, _ = remote_asset
    settings = Settings(data_dir=tmp_path / "data", fetch_remote_manifests=True)
    report = read_credentials(data, "image/jpeg", settings=settings)
    assert report.error is not None and "refused, 127.0.0.1 is a loopback address" in report.error.message
    assert server.hits == []  # the guard refused before connecting


def test_an_allowed_fetch_validates_the_asset_and_is_cached(
    remote_asset: tuple[bytes, Path], server: Server, tmp_path: Path
) -> None:
    data, ca = remote_asset
    settings = Settings(
        data_dir=tmp_path / "data",
        fetch_remote_manifests=True,
        remote_manifest_networks=("127.0.0.1/32",),
        extra_trust_anchors=ca,
    )
    report = read_credentials(data, "image/jpeg", settings=settings)
    assert report.error is None and report.present
    assert report.fetched_from == f"{server.url}/m.c2pa"
    assert report.state is ValidationState.TRUSTED
    again = read_credentials(data, "image/jpeg", settings=settings)
    assert again.state is ValidationState.TRUSTED
    assert server.hits == ["/m.c2pa"]  # the second reading came from the cache
    signal = C2paAnalyzer.from_settings(settings).analyze(Media.from_bytes(data, name="p.jpg"))
    assert signal.has("c2pa.trusted") and signal.has("c2pa.remote_fetched")
    assert "fetched from" in signal.summary


def test_a_missing_or_wrong_manifest_is_said_and_nothing_is_trusted(
    remote_asset: tuple[bytes, Path], server: Server, tmp_path: Path
) -> None:
    data, _ = remote_asset
    settings = Settings(
        data_dir=tmp_path / "data", fetch_remote_manifests=True, remote_manifest_networks=("127.0.0.1/32",)
    )
    server.bodies.pop("/m.c2pa")
    missing = read_credentials(data, "image/jpeg", settings=settings)
    assert missing.error is not None and "HTTP 404" in missing.error.message
    server.bodies["/m.c2pa"] = b"not a manifest store"
    wrong = read_credentials(data, "image/jpeg", settings=settings)
    assert wrong.state is not ValidationState.TRUSTED
    assert wrong.error is not None or wrong.state is ValidationState.INVALID
