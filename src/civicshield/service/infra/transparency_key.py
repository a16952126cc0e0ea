"""The transparency log's Ed25519 signing key: made on first use and kept under the data folder
(``keys/transparency-ed25519.pem``, readable by the service's user only). Back it up with the rest: a new
key means a new log identity for everyone who pinned the old public key."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from civicshield.service.domain.audit_anchor import SigningKey

__all__ = ["load_or_create", "public_key_b64"]


def load_or_create(data_dir: Path) -> Ed25519PrivateKey:
    """The key in ``keys/transparency-ed25519.pem``, made on first use (the audit checkpoints' way)."""
    return SigningKey.load_or_create(data_dir / "keys" / "transparency-ed25519.pem").private


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")
