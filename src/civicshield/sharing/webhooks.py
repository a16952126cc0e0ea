"""Signing and verifying webhook deliveries (HMAC-SHA256), replay-safe and with secret rotation.

Wire format, modelled on Stripe and Standard Webhooks::

    CivicShield-Delivery:  9b2f0c1e-0d5e-4b8a-9a57-3f4c2d1e0f11
    CivicShield-Signature: t=1717171717,v1=5257a869...,v1=6ffbb59b...

``v1`` is the lower-case hex HMAC-SHA256, keyed with the subscription secret, of
``f"{delivery_id}.{t}.".encode() + body`` (the raw body bytes, exactly as sent). The delivery id is inside
the signed bytes, as in Standard Webhooks, because replay protection keys on it: were it only a header, an
attacker could replay a captured delivery under a fresh id. Ids may not contain ``.``, so the three signed
fields cannot be re-cut. During a secret rotation the sender signs with every active secret (one ``v1``
each) and the receiver accepts a delivery if any ``v1`` matches any secret it holds.

A receiver (`verify_delivery`) rejects, in this order: a malformed header; a timestamp outside the tolerance
window (default 5 minutes either way, for clock skew); a signature matching none of its secrets (compared
in constant time); and, when given a `SeenDeliveries` store, a delivery id it has already accepted. The
store only has to remember ids until their timestamp leaves the window, after which the age check alone
rejects them. Every rejection is a ``SigningError`` whose ``detail["reason"]`` says which check failed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from secrets import token_urlsafe
from typing import Protocol

from civicshield.errors import ConfigurationError, SigningError

__all__ = [
    "DEFAULT_TOLERANCE_S",
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "Delivery",
    "InMemorySeenDeliveries",
    "SeenDeliveries",
    "new_webhook_secret",
    "sign_delivery",
    "verify_delivery",
]

SIGNATURE_HEADER = "CivicShield-Signature"
DELIVERY_HEADER = "CivicShield-Delivery"
DEFAULT_TOLERANCE_S = 300
MIN_SECRET_BYTES = 16
MAX_SIGNATURES = 8
_DELIVERY_ID = re.compile(r"[A-Za-z0-9_:-]{1,128}")
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")

Secret = str | bytes


@dataclass(frozen=True)
class Delivery:
    """A delivery that passed verification: its id and the time it was signed (Unix seconds)."""

    delivery_id: str
    timestamp: int


class SeenDeliveries(Protocol):
    """Where a receiver remembers accepted delivery ids (Redis ``SET NX EX``, a table, or in memory)."""

    def remember(self, delivery_id: str, *, until: float) -> bool:
        """Record ``delivery_id`` until Unix time ``until``; False if it was already there (atomically)."""
        ...


class InMemorySeenDeliveries:
    """A `SeenDeliveries` for one process and for tests; forgets ids once their time has passed."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._until: dict[str, float] = {}

    def remember(self, delivery_id: str, *, until: float) -> bool:
        moment = self._clock()
        self._until = {k: v for k, v in self._until.items() if v > moment}
        if delivery_id in self._until:
            return False
        self._until[delivery_id] = until
        return True

    def __len__(self) -> int:
        return len(self._until)


def new_webhook_secret() -> str:
    """A fresh random signing secret (256 bits, URL-safe) for a new subscription or a rotation."""
    return "cswh_" + token_urlsafe(32)


def _key(secret: Secret) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if len(key) < MIN_SECRET_BYTES:
        raise ConfigurationError(f"webhook secrets need at least {MIN_SECRET_BYTES} bytes")
    return key


def _keys(secrets: Sequence[Secret]) -> list[bytes]:
    if isinstance(secrets, str | bytes) or not secrets:
        raise ConfigurationError("give webhook secrets as a non-empty list (newest first)")
    return [_key(s) for s in secrets]


def _mac(key: bytes, delivery_id: str, timestamp: int, body: bytes) -> str:
    message = f"{delivery_id}.{timestamp}.".encode() + body
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_delivery(
    body: bytes, *, secrets: Sequence[Secret], delivery_id: str, timestamp: int
) -> dict[str, str]:
    """The headers to send with ``body``: one ``v1`` signature per active secret."""
    if not _DELIVERY_ID.fullmatch(delivery_id):
        raise ConfigurationError("delivery ids are 1-128 characters of A-Z a-z 0-9 _ : -")
    signatures = ",".join(
        f"v1={_mac(k, delivery_id, timestamp, body)}" for k in _keys(secrets)[:MAX_SIGNATURES]
    )
    return {DELIVERY_HEADER: delivery_id, SIGNATURE_HEADER: f"t={timestamp},{signatures}"}


def _reject(reason: str, message: str) -> SigningError:
    return SigningError(f"webhook delivery rejected: {message}", detail={"reason": reason})


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    values = [v for k, v in headers.items() if k.lower() == wanted]
    if len(values) != 1:
        raise _reject("malformed_header", f"expected exactly one {name} header, got {len(values)}")
    return values[0].strip()


def _parse_signature(value: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t" and item.isdigit() and len(item) <= 12 and timestamp is None:
            timestamp = int(item)
        elif key == "v1" and _HEX_SHA256.fullmatch(item):
            signatures.append(item)
        elif key in ("t", "v1"):
            raise _reject("malformed_header", f"bad {key} in {SIGNATURE_HEADER}")
    if timestamp is None or not signatures or len(signatures) > MAX_SIGNATURES:
        raise _reject(
            "malformed_header", f"{SIGNATURE_HEADER} needs one t= and 1-{MAX_SIGNATURES} v1= entries"
        )
    return timestamp, signatures


def verify_delivery(
    body: bytes,
    headers: Mapping[str, str],
    *,
    secrets: Sequence[Secret],
    now: float | None = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    seen: SeenDeliveries | None = None,
) -> Delivery:
    """Check a received delivery; returns it when authentic, fresh and new, else raises ``SigningError``."""
    keys = _keys(secrets)
    delivery_id = _header(headers, DELIVERY_HEADER)
    if not _DELIVERY_ID.fullmatch(delivery_id):
        raise _reject("malformed_header", f"bad {DELIVERY_HEADER} header")
    timestamp, signatures = _parse_signature(_header(headers, SIGNATURE_HEADER))
    moment = time.time() if now is None else now
    if moment - timestamp > tolerance_s:
        raise _reject(
            "stale_timestamp", f"signed {int(moment - timestamp)} s ago (tolerance {tolerance_s} s)"
        )
    if timestamp - moment > tolerance_s:
        raise _reject("future_timestamp", f"signed {int(timestamp - moment)} s in the future")
    expected = [_mac(k, delivery_id, timestamp, body) for k in keys]
    matched = False
    for mac in expected:
        for signature in signatures:
            matched |= hmac.compare_digest(mac, signature)
    if not matched:
        raise _reject("bad_signature", "no signature matches a known secret")
    if seen is not None and not seen.remember(delivery_id, until=timestamp + tolerance_s):
        raise _reject("replayed", f"delivery {delivery_id} was already accepted")
    return Delivery(delivery_id, timestamp)
