"""The transparency log in the service (issue 15): the one write path for ``transparency_entries`` and
``tree_heads``.

What enters the log: every fact-check published as TLP:CLEAR (``fact_check.published``: its public page,
rating, title and publisher) and every hash added to a bank at TLP:CLEAR (``bank.entry_added``). Nothing of a
restricted case or bank ever does: the log is public. Appends happen in the transaction that publishes or
banks, serialized (an advisory lock on PostgreSQL, SQLite's single writer), so sequence numbers have no gaps.
Heads are signed on demand (``sign_head``: whoever asks for the latest head gets one covering every entry),
with the log's Ed25519 key, held by the service (``infra.transparency_key``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield.errors import NotFound, UsageError
from civicshield.service.domain.tables import TransparencyEntry, TreeHead, utcnow
from civicshield.transparency.log import FORMAT, LogEntry, SignedHead
from civicshield.transparency.merkle import consistency_proof, inclusion_proof, tree_head

__all__ = ["append", "consistency", "copy", "entries", "inclusion", "latest_head", "sign_head", "size"]

LOCK_CLASS = 7302  # advisory lock key serializing appends (7301 is the audit chain's)
MAX_PAGE = 1000


def append(s: Session, kind: str, payload: dict[str, Any]) -> TransparencyEntry:
    """Add one public entry at the end of the log, in the caller's transaction."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(select(func.pg_advisory_xact_lock(LOCK_CLASS, 0)))
    seq = int(s.scalar(select(func.count()).select_from(TransparencyEntry)) or 0)
    at = utcnow().replace(microsecond=0).isoformat()
    entry = LogEntry(seq, kind, at, payload)
    row = TransparencyEntry(seq=seq, kind=kind, at=at, payload=payload, leaf=entry.leaf.hex())
    s.add(row)
    s.flush()
    return row


def size(s: Session) -> int:
    return int(s.scalar(select(func.count()).select_from(TransparencyEntry)) or 0)


def _leaves(s: Session, upto: int | None = None) -> list[bytes]:
    query = select(TransparencyEntry.leaf).order_by(TransparencyEntry.seq)
    if upto is not None:
        query = query.where(TransparencyEntry.seq < upto)
    return [bytes.fromhex(leaf) for leaf in s.scalars(query)]


def latest_head(s: Session) -> TreeHead | None:
    return s.scalars(select(TreeHead).order_by(TreeHead.size.desc()).limit(1)).first()


def sign_head(s: Session, key: Ed25519PrivateKey) -> TreeHead:
    """The head covering every entry: the stored one if the log has not grown, else a newly signed one."""
    current = latest_head(s)
    n = size(s)
    if current is not None and current.size == n:
        return current
    head = SignedHead.sign(key, n, tree_head(_leaves(s)), dt.datetime.now(dt.UTC))
    row = TreeHead(size=head.size, root=head.root, timestamp=head.timestamp, signature=head.signature)
    s.add(row)
    s.flush()
    return row


def entries(s: Session, start: int = 0, end: int | None = None) -> list[TransparencyEntry]:
    end = min(end if end is not None else start + MAX_PAGE, start + MAX_PAGE)
    query = select(TransparencyEntry).where(TransparencyEntry.seq >= start, TransparencyEntry.seq < end)
    return list(s.scalars(query.order_by(TransparencyEntry.seq)))


def _head_of(s: Session, tree_size: int) -> TreeHead:
    head = s.get(TreeHead, tree_size)
    if head is None:
        raise NotFound(f"no signed tree head of size {tree_size}")
    return head


def inclusion(s: Session, seq: int, tree_size: int) -> list[str]:
    """The audit path of entry ``seq`` in the signed tree of ``tree_size`` entries (RFC 9162 §2.1.3.1)."""
    _head_of(s, tree_size)
    if not 0 <= seq < tree_size:
        raise UsageError(f"entry {seq} is not in a tree of {tree_size}")
    return [h.hex() for h in inclusion_proof(seq, _leaves(s, tree_size))]


def consistency(s: Session, first: int, second: int) -> list[str]:
    """That the signed tree of ``first`` entries is a prefix of that of ``second`` (RFC 9162 §2.1.4.1)."""
    _head_of(s, first)
    _head_of(s, second)
    if not 0 < first <= second:
        raise UsageError("first must be between 1 and second")
    return [h.hex() for h in consistency_proof(first, _leaves(s, second))]


def copy(s: Session, public_key_b64: str) -> dict[str, Any]:
    """The whole log as ``civicshield transparency verify`` reads it: entries, every signed head, the key."""
    rows = s.scalars(select(TransparencyEntry).order_by(TransparencyEntry.seq))
    heads = s.scalars(select(TreeHead).order_by(TreeHead.size))
    return {
        "log": FORMAT,
        "public_key": public_key_b64,
        "entries": [{"seq": r.seq, "kind": r.kind, "at": r.at, "payload": r.payload} for r in rows],
        "heads": [
            {"size": h.size, "root": h.root, "timestamp": h.timestamp, "signature": h.signature}
            for h in heads
        ],
    }
