"""Sign media with Content Credentials (C2PA), for organisations that publish originals.

An election body or newsroom that signs what it publishes lets anyone check later that a copy is unaltered
and who vouches for it (``civicshield analyze`` reports ``c2pa.trusted`` once its CA is a trust anchor).
The manifest records one ``c2pa.created`` (or ``c2pa.opened``) action with the IPTC digital source type and
the organisation as the schema.org ``CreativeWork`` author. No time stamp is requested unless ``tsa_url`` is
given, so signing works offline; without a time stamp the signature stops validating when the certificate
expires.

``make_demo_signer`` (re-exported from ``provenance.demo_signer``) creates a throwaway CA and signer
certificate for demos and tests; it is trusted by nobody.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from civicshield.errors import SigningError
from civicshield.provenance.demo_signer import DEMO_CA_FILE, make_demo_signer
from civicshield.provenance.trust import OFFLINE_VERIFY
from civicshield.provenance.vocab import source_type_uri
from civicshield.sniff import sniff

__all__ = ["DEMO_CA_FILE", "SignedItem", "infer_alg", "make_demo_signer", "sign_media"]

_FIRST_ACTIONS = ("c2pa.created", "c2pa.opened")
_PARENT = "civicshield-parent"
# Thumbnails are off: a signed original does not need a copy of itself, and c2pa upscales small images.
_BUILDER_SETTINGS = {
    "version": 1,
    "verify": dict(OFFLINE_VERIFY),
    "builder": {"thumbnail": {"enabled": False}},
}
_EC_ALGS = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}


@dataclass(frozen=True)
class SignedItem:
    """What was written: the signed file and the facts put in its manifest."""

    path: Path
    mime: str
    alg: str
    digital_source_type: str  # full URI
    organization: str
    actions: tuple[str, ...]
    manifest_bytes: int
    sha256: str


def sign_media(
    src: Path,
    dst: Path,
    *,
    cert_chain_pem: bytes,
    private_key_pem: bytes,
    organization: str,
    digital_source_type: str = "digitalCapture",
    actions: Sequence[str | Mapping[str, Any]] = ("c2pa.created",),
    title: str | None = None,
    tsa_url: str | None = None,
) -> SignedItem:
    """Write ``src`` with an embedded, signed manifest to ``dst`` (may equal ``src``).

    ``cert_chain_pem`` is the signer certificate followed by its intermediates; the algorithm follows the key
    (EC P-256/384/521 → ES256/384/512, RSA → PS256, Ed25519). ``actions[0]`` must be ``c2pa.created`` or
    ``c2pa.opened`` and carries ``digital_source_type`` (an IPTC term or a full URI); further actions are
    recorded as given. Raises ``SigningError`` for bad credentials or media c2pa cannot sign.
    """
    src, dst = Path(src), Path(dst)
    if not organization.strip():
        raise SigningError("organization must not be empty")
    alg = infer_alg(cert_chain_pem, private_key_pem)
    try:
        source_uri = source_type_uri(digital_source_type)
    except ValueError as exc:
        raise SigningError(str(exc)) from exc
    mime = _media_type(src)
    manifest, opened = _manifest(title or src.name, mime, organization, source_uri, actions)
    data = _sign(src, dst, mime, manifest, opened, alg, cert_chain_pem, private_key_pem, tsa_url)
    return SignedItem(
        path=dst,
        mime=mime,
        alg=alg.upper(),
        digital_source_type=source_uri,
        organization=organization,
        actions=tuple(a["action"] for a in _action_list(manifest)),
        manifest_bytes=data,
        sha256=hashlib.sha256(dst.read_bytes()).hexdigest(),
    )


def infer_alg(cert_chain_pem: bytes, private_key_pem: bytes) -> str:
    """The c2pa signing algorithm for a key, after checking that it matches the first certificate."""
    try:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningError(f"cannot load the private key (unencrypted PEM expected): {exc}") from exc
    try:
        leaf = x509.load_pem_x509_certificates(cert_chain_pem)[0]
    except (ValueError, IndexError) as exc:
        raise SigningError(f"cannot load the certificate chain (PEM expected): {exc}") from exc
    public = key.public_key()
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _EC_ALGS:
        alg = _EC_ALGS[key.curve.name]
    elif isinstance(key, rsa.RSAPrivateKey):
        alg = "ps256"
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        alg = "ed25519"
    else:
        raise SigningError(f"unsupported key type {type(key).__name__}: use EC P-256/384/521, RSA or Ed25519")
    if _key_identity(public) != _key_identity(leaf.public_key()):
        raise SigningError("the private key does not belong to the first certificate of the chain")
    return alg


def _key_identity(public: Any) -> Any:
    """A comparable form of a public key (RSA-PSS certificates serialise differently from the bare key)."""
    if isinstance(public, ed25519.Ed25519PublicKey):
        return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return public.public_numbers() if hasattr(public, "public_numbers") else None


def _media_type(src: Path) -> str:
    try:
        with src.open("rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise SigningError(f"{src}: cannot read ({exc.strerror or exc})") from exc
    fmt = sniff(head)
    supported = {str(m).lower() for m in c2pa.Builder.get_supported_mime_types()}
    if fmt is None or fmt.mime.split(";")[0] not in supported:
        raise SigningError(
            f"{src.name}: unsupported media for Content Credentials ({fmt.mime if fmt else 'unknown format'})"
        )
    return fmt.mime.split(";")[0]


def _manifest(
    title: str, mime: str, organization: str, source_uri: str, actions: Sequence[str | Mapping[str, Any]]
) -> tuple[dict[str, Any], bool]:
    from civicshield import __version__  # here, not at the top: the package may one day import this module

    listed: list[dict[str, Any]] = [{"action": a} if isinstance(a, str) else dict(a) for a in actions]
    if not listed or listed[0].get("action") not in _FIRST_ACTIONS:
        raise SigningError(f"the first action must be one of {', '.join(_FIRST_ACTIONS)}")
    first = listed[0]
    first["digitalSourceType"] = source_uri
    opened = first["action"] == "c2pa.opened"
    if opened:
        first["parameters"] = {**dict(first.get("parameters") or {}), "ingredientIds": [_PARENT]}
    author = {"@type": "Organization", "name": organization}
    manifest = {
        "claim_generator_info": [{"name": "CivicShield", "version": __version__}],
        "title": title,
        "format": mime,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": listed}},
            {
                "label": "stds.schema-org.CreativeWork",
                "data": {"@context": "http://schema.org/", "@type": "CreativeWork", "author": [author]},
            },
        ],
    }
    return manifest, opened


def _action_list(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = manifest["assertions"][0]["data"]["actions"]
    return actions


def _sign(
    src: Path,
    dst: Path,
    mime: str,
    manifest: dict[str, Any],
    opened: bool,
    alg: str,
    chain: bytes,
    key: bytes,
    tsa_url: str | None,
) -> int:
    """Sign into a temporary file next to ``dst`` and move it into place, so ``dst`` is never half-written.
    The signed file keeps the permission bits of ``src``."""
    try:
        fd, tmp_name = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".tmp")
    except OSError as exc:
        raise SigningError(f"{src.name}: cannot write {dst}: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "w+b") as out,
            src.open("rb") as source,
            c2pa.Context.from_dict(_BUILDER_SETTINGS) as context,
            c2pa.Signer.from_info(c2pa.C2paSignerInfo(alg, chain, key, tsa_url)) as signer,
            c2pa.Builder(manifest, context=context) as builder,
        ):
            if opened:
                with src.open("rb") as parent:
                    builder.add_ingredient(
                        {"title": src.name, "relationship": "parentOf", "label": _PARENT}, mime, parent
                    )
            manifest_bytes = builder.sign(signer, mime, source, out)
        shutil.copymode(src, tmp)
        os.replace(tmp, dst)
    except c2pa.C2paError as exc:
        raise SigningError(f"{src.name}: c2pa refused to sign: {exc}") from exc
    except OSError as exc:
        raise SigningError(f"{src.name}: cannot write {dst}: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return len(manifest_bytes)
