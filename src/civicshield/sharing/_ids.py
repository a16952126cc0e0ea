"""Deterministic identifiers and timestamps, so exporting the same fact-check twice gives the same document.

Re-publishing must be idempotent: a partner that already holds ``indicator--X`` must see the *same* id again
(and a newer ``modified`` when the content changed), not a second copy. So ids are derived from the stable
facts that name an object (publisher, fact-check URL, hash), never from a random source or the clock.

Two id flavours, because STIX 2.1 asks for two:

* STIX Cyber-observable Objects (``file``, ``url``) SHOULD use UUIDv5 in the STIX namespace over their
  ID-contributing properties (STIX 2.1 §2.9), so any producer derives the same id for the same file.
* Domain, relationship and meta objects and bundles SHOULD use UUIDv4 (the validator's ``uuid-check``).
  `stable_uuid` gives a UUID with version 4 bits whose other 122 bits come from SHA-256 of the naming facts:
  as unpredictable as a random one to anyone without those facts, yet reproducible.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from civicshield.errors import UsageError

__all__ = ["STIX_SCO_NAMESPACE", "iso_timestamp", "sco_id", "stable_uuid", "stix_timestamp"]

#: The namespace STIX 2.1 §2.9 fixes for UUIDv5 ids of cyber-observable objects.
STIX_SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
_DOMAIN = "civicshield.sharing/1"


def stable_uuid(*parts: str) -> uuid.UUID:
    """A version-4-shaped UUID derived from ``parts`` (length-prefixed, so ``("ab", "c") != ("a", "bc")``)."""
    material = "".join(f"{len(p)}:{p}" for p in (_DOMAIN, *parts))
    return uuid.UUID(bytes=hashlib.sha256(material.encode("utf-8")).digest()[:16], version=4)


def sco_id(object_type: str, contributing: Mapping[str, Any]) -> str:
    """``<type>--<uuid5>`` over the canonical JSON of an observable's ID-contributing properties.

    Canonical here means sorted keys, no whitespace, UTF-8: RFC 8785 for the strings and dicts we emit.
    """
    canonical = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{object_type}--{uuid.uuid5(STIX_SCO_NAMESPACE, canonical)}"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise UsageError(f"timestamp {moment.isoformat()} has no time zone; give an aware datetime")
    return moment.astimezone(UTC)


def stix_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision, as STIX 2.1 wants ``created``/``modified``."""
    utc = _utc(moment)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC to the second (``2024-05-01T12:00:00Z``), for schema.org and MISP."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
