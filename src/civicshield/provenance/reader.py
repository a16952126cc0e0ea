"""Read the Content Credentials (C2PA manifest store) of one asset, offline, under one trust policy.

The only place that calls ``c2pa.Reader``. Whatever the native reader raises on hostile input becomes either
a report with a stable ``ReadError`` code (the asset was read, its credentials were not) or, for a path we
cannot open at all, our own ``MediaError``. A missing manifest is a normal report with ``present=False``.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import c2pa

from civicshield.errors import MediaTooLarge, RemoteFetchFailed, UnsupportedMedia
from civicshield.provenance.parse import parse_store
from civicshield.provenance.remote import fetch_remote_manifest
from civicshield.provenance.report import CredentialsReport, ReadError, ReadErrorCode
from civicshield.provenance.trust import TrustPolicy
from civicshield.settings import Limits, Settings

__all__ = ["read_credentials", "reader_format"]

_URL = re.compile(r"https?://\S+")
# c2pa-python exceptions that are not C2paError but can still come out of the binding on bad input.
_BINDING_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, TypeError, RuntimeError, MemoryError)


def read_credentials(
    source: bytes | Path,
    mime: str | None = None,
    *,
    trust: TrustPolicy | None = None,
    settings: Settings | None = None,
) -> CredentialsReport:
    """The credentials report of ``source`` (bytes, or a file path).

    ``mime`` names the container (``image/jpeg``; parameters such as ``; codecs=opus`` are ignored). Without
    it, a path's extension is used as c2pa does, and bytes are sniffed by the reader. ``trust`` wins over
    ``settings``; with neither, the default profile (``verify``) is used.
    """
    settings = settings or Settings()
    policy = trust or TrustPolicy.from_settings(settings)
    data, fmt = _load(source, mime, settings.limits)
    report = _read(data, fmt, policy)
    error = report.error
    if error is None or error.code is not ReadErrorCode.REMOTE_MANIFEST or not error.remote_url:
        return report
    if not settings.fetch_remote_manifests:
        return report
    try:
        manifest = fetch_remote_manifest(error.remote_url, settings)
    except RemoteFetchFailed as exc:
        note = f"{error.message}; fetching it failed: {exc.message}"
        return replace(report, error=replace(error, message=note))
    fetched = _read(data, fmt, policy, manifest)
    return replace(fetched, fetched_from=error.remote_url)


def _read(
    data: bytes, fmt: str | None, policy: TrustPolicy, manifest: bytes | None = None
) -> CredentialsReport:
    """One reading of ``data`` (with ``manifest``: the store that was fetched for it)."""
    try:
        with (
            c2pa.Context.from_json(policy.c2pa_settings_json) as context,
            c2pa.Reader(fmt, io.BytesIO(data), manifest_data=manifest, context=context) as reader,
        ):
            store = json.loads(reader.json())
            certs = _crjson(reader)
    except c2pa.C2paError.ManifestNotFound:
        return CredentialsReport(present=False, trust_profile=policy.profile)
    except c2pa.C2paError as exc:
        return _failed(policy, classify_error(exc))
    except json.JSONDecodeError as exc:
        return _failed(
            policy, ReadError(ReadErrorCode.MALFORMED_MANIFEST, f"reader produced bad JSON: {exc}")
        )
    except _BINDING_ERRORS as exc:
        return _failed(
            policy, ReadError(ReadErrorCode.READ_FAILED, f"{type(exc).__name__}: {exc}", type(exc).__name__)
        )
    if not isinstance(store, dict):
        return _failed(policy, ReadError(ReadErrorCode.MALFORMED_MANIFEST, "manifest store is not an object"))
    return parse_store(store, certs, policy.profile)


def reader_format(mime: str | None, path: Path | None = None) -> str | None:
    """The format string handed to ``c2pa.Reader``: the bare MIME type, else the path's extension."""
    if mime:
        return mime.split(";", 1)[0].strip().lower() or None
    if path is not None and path.suffix:
        return path.suffix[1:].lower()
    return None


def classify_error(exc: BaseException) -> ReadError:
    """Map a c2pa exception to a stable ``ReadErrorCode`` (the message keeps the reader's words)."""
    message = str(exc) or type(exc).__name__
    name = type(exc).__name__
    lowered = message.lower()
    error = c2pa.C2paError
    if isinstance(exc, error.RemoteManifest) or lowered.startswith("remote"):
        url = _URL.search(message)
        return ReadError(
            ReadErrorCode.REMOTE_MANIFEST, message, name, url.group(0).rstrip(").,") if url else None
        )
    if isinstance(exc, error.NotSupported):
        code = ReadErrorCode.UNSUPPORTED_TYPE
    elif "unknown algorithm" in lowered or "unsupported algorithm" in lowered:
        code = ReadErrorCode.UNKNOWN_ALGORITHM
    elif "prerelease" in lowered:
        code = ReadErrorCode.PRERELEASE
    elif "jumbf" in lowered:
        code = ReadErrorCode.INVALID_JUMBF
    elif "asset could not be parsed" in lowered or isinstance(exc, error.Io):
        code = ReadErrorCode.CORRUPT_ASSET
    elif isinstance(
        exc,
        error.Decoding
        | error.Json
        | error.Manifest
        | error.Assertion
        | error.AssertionNotFound
        | error.Signature
        | error.Verify
        | error.Encoding,
    ):
        code = ReadErrorCode.MALFORMED_MANIFEST
    else:
        code = ReadErrorCode.READ_FAILED
    return ReadError(code, message, name)


def _failed(policy: TrustPolicy, error: ReadError) -> CredentialsReport:
    return CredentialsReport(present=error.manifest_present, trust_profile=policy.profile, error=error)


def _crjson(reader: Any) -> dict[str, Any] | None:
    """Certificate details; optional, so a failure here never loses the main report."""
    try:
        parsed = json.loads(reader.crjson())
    except (c2pa.C2paError, json.JSONDecodeError, *_BINDING_ERRORS):
        return None
    return parsed if isinstance(parsed, dict) else None


def _load(source: bytes | Path, mime: str | None, limits: Limits) -> tuple[bytes, str | None]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), reader_format(mime)
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise MediaTooLarge(f"{path.name}: {size} bytes is over the limit of {limits.max_bytes}")
        data = path.read_bytes()
    except IsADirectoryError as exc:
        raise UnsupportedMedia(f"{path}: is a directory") from exc
    except OSError as exc:
        raise UnsupportedMedia(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return data, reader_format(mime, path)
