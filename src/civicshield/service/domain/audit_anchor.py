"""Signed checkpoints that anchor each organization's audit chain, and the check that uses them.

Why: the hash chain (``audit``) shows an edited or deleted row in the middle, but not a log whose last rows
were deleted, nor one rewritten from some row on with every later hash recomputed (the red-team run did
both and verification passed). A checkpoint is the chain head (``seq``, ``hash``) signed with the service's
Ed25519 key, which is kept in a file outside the database (``audit_key_file``). Checkpoints are written
periodically by the worker's reaper and on demand, stored in their own table, and exported (with the
public key) for organizations and operators to keep elsewhere. Verification then also requires that every
checkpoint's signature holds, that the chain still reaches each checkpoint (truncation), and that the event
at each checkpoint still has the signed hash (rewriting). Checkpoints kept outside the service catch an
attacker who deletes checkpoints too.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.service.domain import audit
from civicshield.service.domain.tables import AuditCheckpoint, AuditEvent, Organization, as_utc, utcnow

__all__ = [
    "AuditCheck",
    "Checkpoint",
    "SigningKey",
    "checkpoint",
    "checkpoint_all",
    "public_key_from_pem",
    "service_key",
    "stored",
    "verify",
]


@dataclass(frozen=True)
class Checkpoint:
    org_id: int
    seq: int
    hash: str
    at: str
    key_id: str
    signature: str

    def statement(self) -> bytes:
        return statement(self.org_id, self.seq, self.hash, self.at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Checkpoint:
        return cls(
            int(d["org_id"]),
            int(d["seq"]),
            str(d["hash"]),
            str(d["at"]),
            str(d["key_id"]),
            str(d["signature"]),
        )

    @classmethod
    def from_row(cls, row: AuditCheckpoint) -> Checkpoint:
        return cls(row.org_id, row.seq, row.hash, _iso(row.at), row.key_id, row.signature)


def statement(org_id: int, seq: int, head: str, at: str) -> bytes:
    """What a checkpoint signs: canonical JSON of the organization, the head's seq and hash, and the time."""
    body = {"type": "civicshield.audit.checkpoint/1", "org_id": org_id, "seq": seq, "hash": head, "at": at}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _iso(value: dt.datetime) -> str:
    return as_utc(value).isoformat()


class SigningKey:
    """The service's Ed25519 checkpoint key, created on first use in a file only the owner can read."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self.private = private
        raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = base64.b32encode(raw).decode()[:16].lower()

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                return cls.load_or_create(path)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            return cls(key)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return cls(loaded)

    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private.sign(data)).decode()


@lru_cache(maxsize=4)
def service_key(path: Path) -> SigningKey:
    """The key at ``path`` (created on first use), loaded once per process."""
    return SigningKey.load_or_create(path)


def public_key_from_pem(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def checkpoint(s: Session, org_id: int, key: SigningKey) -> Checkpoint | None:
    """Sign the organization's current head, unless it is signed already (or the chain is empty)."""
    head = s.scalars(
        select(AuditEvent).where(AuditEvent.org_id == org_id).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    if head is None:
        return None
    done = s.scalar(
        select(AuditCheckpoint).where(AuditCheckpoint.org_id == org_id, AuditCheckpoint.seq == head.seq)
    )
    if done is not None:
        return Checkpoint.from_row(done)
    at = utcnow().replace(microsecond=0).isoformat()
    signature = key.sign(statement(org_id, head.seq, head.hash, at))
    s.add(
        AuditCheckpoint(
            org_id=org_id,
            seq=head.seq,
            hash=head.hash,
            at=dt.datetime.fromisoformat(at),
            key_id=key.key_id,
            signature=signature,
        )
    )
    s.flush()
    return Checkpoint(org_id, head.seq, head.hash, at, key.key_id, signature)


def checkpoint_all(s: Session, key: SigningKey) -> list[Checkpoint]:
    """A checkpoint for every organization whose chain moved since its last one."""
    made = [checkpoint(s, org_id, key) for org_id in s.scalars(select(Organization.id))]
    return [c for c in made if c is not None]


def stored(s: Session, org_id: int) -> list[Checkpoint]:
    rows = s.scalars(
        select(AuditCheckpoint).where(AuditCheckpoint.org_id == org_id).order_by(AuditCheckpoint.seq)
    )
    return [Checkpoint.from_row(r) for r in rows]


@dataclass(frozen=True)
class AuditCheck:
    """The outcome of verifying one organization's log: ``intact`` only if every test passed."""

    org_id: int
    events: int
    checkpoints: int
    first_broken: int | None
    problems: tuple[str, ...] = field(default=())

    @property
    def intact(self) -> bool:
        return self.first_broken is None and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "intact": self.intact,
            "events": self.events,
            "checkpoints": self.checkpoints,
            "first_broken": self.first_broken,
            "problems": list(self.problems),
        }


def verify(
    s: Session, org_id: int, checkpoints: Iterable[Checkpoint], public_key: Ed25519PublicKey
) -> AuditCheck:
    """The hash chain, then every checkpoint (signature, reach, hash) against the events as stored."""
    first_broken = audit.verify_chain(s, org_id)
    heads = {
        seq: h
        for seq, h in s.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.org_id == org_id))
    }
    last = max(heads, default=0)
    problems: list[str] = []
    checks: Sequence[Checkpoint] = [c for c in checkpoints if c.org_id == org_id]
    for c in checks:
        try:
            public_key.verify(base64.b64decode(c.signature), c.statement())
        except (InvalidSignature, ValueError):
            problems.append(f"checkpoint at seq {c.seq}: the signature does not hold")
            continue
        if c.seq > last:
            problems.append(f"truncated: a checkpoint signed event {c.seq} but the log ends at {last}")
        elif heads.get(c.seq) != c.hash:
            problems.append(f"rewritten: event {c.seq} no longer has the hash its checkpoint signed")
    return AuditCheck(org_id, len(heads), len(checks), first_broken, tuple(problems))
