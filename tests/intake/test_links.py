"""Links to posts, fetched from a local web server that serves pages the way platforms mark up their media
(Open Graph, <img>), redirects, oversized files and things that are not pages. The WARC is read back with
warcio's own reader."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image
from warcio.archiveiterator import ArchiveIterator

from civicshield.demo import synth
from civicshield.egress import LOOPBACK
from civicshield.intake.links import LinkFetchFailed, LinkLimits, fetch_post


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    synth.poster(f"POST {seed}", size=(320, 240), seed=seed).convert("RGB").save(buf, format="PNG")
    return buf.getvalue()


PAGE = b"""<!doctype html><html><head><title>Local news</title>
<meta property="og:title" content="Ballots found in a canal">
<meta property="og:image" content="/media/one.png">
</head><body><p>Shocking.</p><img src="/media/one.png"><img src="media/two.png">
<img src="data:image/png;base64,AAA"></body></html>"""

ROUTES: dict[str, tuple[int, str, bytes]] = {
    "/post": (200, "text/html; charset=utf-8", PAGE),
    "/media/one.png": (200, "image/png", _png(1)),
    "/media/two.png": (200, "image/png", _png(2)),
    "/direct.png": (200, "image/png", _png(3)),
    "/empty": (200, "text/html", b"<html><head><title>Nothing</title></head><body>text</body></html>"),
    "/notes.txt": (200, "text/plain", b"just text"),
    "/big.png": (200, "image/png", b"\x89PNG" + b"0" * 300_000),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/post")
            self.end_headers()
            return
        status, kind, body = ROUTES.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_post_gives_its_declared_and_embedded_media_and_a_warc(site: str) -> None:
    post = fetch_post(f"{site}/moved", networks=LOOPBACK)  # a redirect first, as short links do
    assert post.final_url == f"{site}/post" and post.title == "Ballots found in a canal"
    assert [m.url for m in post.media] == [f"{site}/media/one.png", f"{site}/media/two.png"]
    assert all(Image.open(io.BytesIO(m.data)).size == (320, 240) for m in post.media)
    records = [
        (r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
        for r in ArchiveIterator(io.BytesIO(post.warc))
        if r.rec_type == "response"
    ]
    assert [uri for uri, _ in records] == [f"{site}/post", f"{site}/media/one.png", f"{site}/media/two.png"]
    assert records[0][1] == PAGE and len(post.warc_sha256) == 64


def test_a_link_to_media_is_that_media(site: str) -> None:
    post = fetch_post(f"{site}/direct.png", networks=LOOPBACK)
    assert [m.content_type for m in post.media] == ["image/png"]


@pytest.mark.parametrize(
    ("path", "networks", "words"),
    [
        ("/post", (), "refused"),  # a private address, not allowed
        ("/big.png", LOOPBACK, "larger than"),
        ("/notes.txt", LOOPBACK, "neither a page nor media"),
        ("/empty", LOOPBACK, "no image, video or audio"),
        ("/missing", LOOPBACK, "HTTP 404"),
    ],
)
def test_bad_links_are_refused_with_the_reason(
    site: str, path: str, networks: tuple[str, ...], words: str
) -> None:
    with pytest.raises(LinkFetchFailed, match=words):
        fetch_post(
            f"{site}{path}",
            networks=networks,
            limits=LinkLimits(max_media_bytes=100_000, max_page_bytes=100_000),
        )


def test_only_http_links() -> None:
    with pytest.raises(LinkFetchFailed, match="not an http"):
        fetch_post("file:///etc/passwd")
