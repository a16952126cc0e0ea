"""Content Credentials stored remotely: fetched only when the user asks, through the egress guard, cached.

Some assets carry no manifest, only a URL where it is kept (C2PA "remote manifest"; Adobe's cloud does this,
e.g. ``crater-lake-cr.jpg`` in the test data). Reading offline, such a file can only be reported as "stored
remotely, not fetched". With ``Settings.fetch_remote_manifests`` (``CIVICSHIELD_FETCH_REMOTE_MANIFESTS=1``,
or ``civicshield analyze --fetch-remote-manifests``) the manifest is downloaded and validated against the
asset like an embedded one, and the report says it was fetched and from where.

What the fetch may do: http or https only; only addresses the egress guard allows (public ones, plus the
networks in ``Settings.remote_manifest_networks``, so a crafted asset cannot make the tool reach
``127.0.0.1`` or a cloud metadata address); at most ``MAX_BYTES``; ``TIMEOUT_S``; no redirects to elsewhere
(each hop is checked by the same guard, at most three). A fetched manifest is kept under
``data_dir/remote-manifests/`` by the SHA-256 of its URL, so an asset checked twice costs one request, and
a later offline run of the same item still reads it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from civicshield.errors import ConfigurationError, RemoteFetchFailed
from civicshield.settings import Settings

__all__ = ["MAX_BYTES", "fetch_remote_manifest"]

MAX_BYTES = 8 * 2**20
TIMEOUT_S = 10.0
MAX_REDIRECTS = 3


def _cache_file(settings: Settings, url: str) -> Path:
    return settings.data_dir / "remote-manifests" / f"{hashlib.sha256(url.encode('utf-8')).hexdigest()}.c2pa"


def fetch_remote_manifest(url: str, settings: Settings) -> bytes:
    """The manifest store at ``url`` (from the cache when fetched before). ``RemoteFetchFailed`` says why
    it could not be had; nothing is fetched unless ``settings.fetch_remote_manifests``."""
    if not settings.fetch_remote_manifests:
        raise RemoteFetchFailed("fetching remote Content Credentials is off (--fetch-remote-manifests)")
    cached = _cache_file(settings, url)
    if cached.is_file():
        return cached.read_bytes()
    data = _download(url, settings)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(cached)
    except OSError:
        pass  # a cache that cannot be written only costs a second fetch
    return data


def _download(url: str, settings: Settings) -> bytes:
    try:
        import httpx

        from civicshield.egress import AddressNotAllowed, EgressPolicy, GuardedTransport
    except ImportError as exc:  # httpx comes with the service extra
        raise ConfigurationError(
            "fetching remote Content Credentials needs httpx (the service extra)"
        ) from exc
    if not url.lower().startswith(("http://", "https://")):
        raise RemoteFetchFailed(f"not an http(s) address: {url[:200]!r}")
    policy = EgressPolicy.parse(settings.remote_manifest_networks)
    try:
        with (
            httpx.Client(
                transport=GuardedTransport(policy),
                timeout=TIMEOUT_S,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                headers={"Accept": "application/c2pa, application/octet-stream"},
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise RemoteFetchFailed(f"{url} answered HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise RemoteFetchFailed(f"{url} sent more than {MAX_BYTES} bytes: not a manifest")
    except AddressNotAllowed as exc:
        raise RemoteFetchFailed(_refused(url, exc)) from None
    except httpx.HTTPError as exc:
        if isinstance(exc.__cause__, AddressNotAllowed):
            raise RemoteFetchFailed(_refused(url, exc.__cause__)) from None
        raise RemoteFetchFailed(f"{url}: {type(exc).__name__}: {exc}") from None
    if not body:
        raise RemoteFetchFailed(f"{url} sent nothing")
    return bytes(body)


def _refused(url: str, exc: Exception) -> str:
    detail = getattr(exc, "detail", {})
    return (
        f"{url}: refused, {detail.get('address', 'the address')} is a {detail.get('kind', 'non-public')} "
        "address (an operator can allow internal networks with CIVICSHIELD_REMOTE_MANIFEST_NETWORKS)"
    )
