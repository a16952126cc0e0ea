"""What the transparency log holds and how its heads are signed.

An entry is public by construction: the kind of event (a fact-check published, a hash added to a TLP:CLEAR
bank), when, and public metadata only; its leaf is the SHA-256 of ``0x00`` and its canonical JSON (keys
sorted, no spaces, UTF-8), so anyone can recompute it. A signed tree head binds a log size to the Merkle root
of its first ``size`` entries and a time, signed with the log's Ed25519 key over ``head_message``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from civicshield.transparency.merkle import leaf_hash

__all__ = ["FORMAT", "LogEntry", "SignedHead", "entry_bytes", "head_message"]

FORMAT = "civicshield-transparency/1"


@dataclass(frozen=True)
class LogEntry:
    seq: int  # 0-based position in the log
    kind: str  # fact_check.published | bank.entry_added | ...
    at: str  # ISO 8601, UTC, seconds
    payload: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "at": self.at, "payload": self.payload}

    @property
    def leaf(self) -> bytes:
        return leaf_hash(entry_bytes(self.to_dict()))


def entry_bytes(entry: dict[str, Any]) -> bytes:
    """The canonical bytes of an entry (what its leaf hashes)."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def head_message(size: int, root_hex: str, timestamp: str) -> bytes:
    return f"{FORMAT}\nsize {size}\nroot {root_hex}\ntime {timestamp}\n".encode("ascii")


@dataclass(frozen=True)
class SignedHead:
    size: int
    root: str  # hex
    timestamp: str  # ISO 8601, UTC
    signature: str  # base64 Ed25519

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "root": self.root,
            "timestamp": self.timestamp,
            "signature": self.signature,
        }

    @classmethod
    def sign(cls, key: Ed25519PrivateKey, size: int, root: bytes, at: dt.datetime) -> SignedHead:
        stamp = at.astimezone(dt.UTC).replace(microsecond=0).isoformat()
        signature = key.sign(head_message(size, root.hex(), stamp))
        return cls(size, root.hex(), stamp, base64.b64encode(signature).decode("ascii"))

    def verify(self, key: Ed25519PublicKey) -> bool:
        try:
            key.verify(
                base64.b64decode(self.signature, validate=True),
                head_message(self.size, self.root, self.timestamp),
            )
        except (InvalidSignature, ValueError):
            return False
        return True
