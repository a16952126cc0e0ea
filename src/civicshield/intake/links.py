"""A link to a post, as fact-checkers receive them: fetch the page, find its media, archive what was seen.

``fetch_post(url)`` fetches the page through the egress guard (public addresses only, unless the operator
allows networks: ``Settings.link_networks`` / ``CIVICSHIELD_LINK_NETWORKS``), at most ``max_redirects``
checked redirects, ``timeout_s`` and ``max_page_bytes``. The media are found where platforms declare them —
``og:video``, ``og:image``, ``twitter:image``, then ``<video>``/``<source>`` and ``<img>`` in the page — and
downloaded within ``max_media_bytes`` each, at most ``max_media``; only images, video and audio are kept. A
link straight to a picture or a clip is that media. Everything fetched is written into one WARC file
(``warcio``; ISO 28500), whose SHA-256 is the evidence of what the page showed at that moment.

Every failure is a ``LinkFetchFailed`` that says why (refused address, HTTP status, too large, not a page and
not media, no media on the page). Nothing half-done is returned. The HTML is read with the standard library's
``html.parser`` (only ``meta``, ``video``, ``source`` and ``img`` tags are looked at).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from civicshield.errors import ConfigurationError, UsageError

__all__ = ["FetchedMedia", "FetchedPost", "LinkFetchFailed", "LinkLimits", "fetch_post", "media_urls"]

MEDIA_PREFIXES = ("image/", "video/", "audio/")


class LinkFetchFailed(UsageError):
    """A link could not be turned into media: the message says why."""

    code = "link_fetch_failed"
    http_status = 422


@dataclass(frozen=True)
class LinkLimits:
    max_page_bytes: int = 5 * 1024 * 1024
    max_media_bytes: int = 200 * 1024 * 1024
    max_media: int = 4
    timeout_s: float = 15.0
    max_redirects: int = 3


@dataclass(frozen=True)
class FetchedMedia:
    url: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class FetchedPost:
    url: str
    final_url: str
    title: str
    media: tuple[FetchedMedia, ...]
    warc: bytes = field(repr=False)

    @property
    def warc_sha256(self) -> str:
        return hashlib.sha256(self.warc).hexdigest()


class _Media(HTMLParser):
    """The media a page declares, in order of trust: Open Graph / Twitter cards, then the page's own tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.declared: list[str] = []
        self.embedded: list[str] = []
        self.og_title = ""
        self.html_title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            name = (a.get("property") or a.get("name") or "").lower()
            if name in ("og:video", "og:video:url", "og:video:secure_url", "og:image", "og:image:url",
                        "og:image:secure_url", "twitter:image", "twitter:image:src", "og:audio"):  # fmt: skip
                self.declared.append(a.get("content", ""))
            if name == "og:title" and not self.og_title:
                self.og_title = a.get("content", "")
        elif tag in ("video", "source", "img", "audio"):
            self.embedded.append(a.get("src", ""))
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title and not self.html_title:
            self.html_title = data.strip()


def media_urls(html: str, base: str, limit: int) -> tuple[str, list[str]]:
    """The page's title and up to ``limit`` absolute media URLs (declared ones first, no duplicates)."""
    parser = _Media()
    parser.feed(html)
    urls = []
    for raw in parser.declared + parser.embedded:
        if raw and not raw.startswith("data:"):
            absolute = urljoin(base, raw.strip())
            if absolute.startswith(("http://", "https://")) and absolute not in urls:
                urls.append(absolute)
    return (parser.og_title or parser.html_title)[:300], urls[:limit]


def fetch_post(url: str, *, networks: tuple[str, ...] = (), limits: LinkLimits | None = None) -> FetchedPost:
    """The media of the post at ``url`` and a WARC of everything fetched (``LinkFetchFailed`` otherwise)."""
    try:
        import httpx
        from warcio.statusandheaders import StatusAndHeaders
        from warcio.warcwriter import WARCWriter

        from civicshield.egress import AddressNotAllowed, EgressPolicy, GuardedTransport
    except ImportError as exc:
        raise ConfigurationError("fetching links needs the service extra (httpx, warcio)") from exc
    limits = limits or LinkLimits()
    if not url.lower().startswith(("http://", "https://")):
        raise LinkFetchFailed(f"not an http(s) link: {url[:200]!r}")
    policy = EgressPolicy.parse(networks)
    archive = io.BytesIO()
    writer = WARCWriter(archive, gzip=True)

    def get(client: Any, target: str, cap: int) -> tuple[str, str, bytes]:
        with client.stream("GET", target) as response:
            if response.status_code != 200:
                raise LinkFetchFailed(f"{target[:200]}: HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > cap:
                    raise LinkFetchFailed(f"{target[:200]}: larger than {cap} bytes")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            headers = StatusAndHeaders("200 OK", list(response.headers.items()), protocol="HTTP/1.1")
            record = writer.create_warc_record(
                str(response.url),
                "response",
                payload=io.BytesIO(bytes(body)),
                length=len(body),  # known: no temporary buffer
                http_headers=headers,
            )
            writer.write_record(record)
            return str(response.url), kind, bytes(body)

    try:
        with httpx.Client(
            transport=GuardedTransport(policy),
            timeout=limits.timeout_s,
            follow_redirects=True,
            max_redirects=limits.max_redirects,
            headers={"User-Agent": "CivicShield link check (+https://civicshield.org)"},
        ) as client:
            final, kind, body = get(client, url, max(limits.max_page_bytes, limits.max_media_bytes))
            if kind.startswith(MEDIA_PREFIXES):
                media = [FetchedMedia(final, kind, body)]
                title = final.rsplit("/", 1)[-1]
            elif kind in ("text/html", "application/xhtml+xml"):
                if len(body) > limits.max_page_bytes:
                    raise LinkFetchFailed(f"{url[:200]}: page larger than {limits.max_page_bytes} bytes")
                title, urls = media_urls(body.decode("utf-8", errors="replace"), final, limits.max_media)
                media = []
                for target in urls:
                    got, media_kind, data = get(client, target, limits.max_media_bytes)
                    if media_kind.startswith(MEDIA_PREFIXES):
                        media.append(FetchedMedia(got, media_kind, data))
            else:
                raise LinkFetchFailed(f"{url[:200]}: neither a page nor media ({kind or 'no content type'})")
    except AddressNotAllowed as exc:
        raise LinkFetchFailed(f"refused: {exc.message}") from exc
    except httpx.TooManyRedirects as exc:
        raise LinkFetchFailed(f"{url[:200]}: more than {limits.max_redirects} redirects") from exc
    except httpx.HTTPError as exc:
        raise LinkFetchFailed(f"{url[:200]}: {type(exc).__name__}: {exc}") from exc
    if not media:
        raise LinkFetchFailed(f"{url[:200]}: no image, video or audio found on the page")
    return FetchedPost(url, final, title, tuple(media), archive.getvalue())
