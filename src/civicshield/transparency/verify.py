"""Checking a copy of the transparency log independently of the server that served it.

``verify_copy`` recomputes every leaf from the entries as published and the Merkle root of every signed head,
and checks each head's signature with the log's key (the one you trust, given separately; else the one in the
copy, which only proves the copy is self-consistent). It finds:

* **tampered** — an entry was changed or removed: a signed head's root no longer matches the entries;
* **truncated** — the copy holds fewer entries than a signed head covers;
* **forked** — two signed heads of the same size with different roots, or a head whose entries are not a
  prefix of a later head's (the log showed different histories);
* **rewritten since a checkpoint** — a head you saved earlier (``checkpoint``) does not match the copy's
  entries: history changed after you looked.

A bad signature, an entry out of sequence and malformed JSON are reported the same way: plainly, never as a
crash.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from civicshield.transparency.log import FORMAT, LogEntry, SignedHead
from civicshield.transparency.merkle import tree_head

__all__ = ["Verification", "public_key", "verify_copy"]


@dataclass
class Verification:
    entries: int = 0
    heads: int = 0
    problems: list[str] = field(default_factory=list)
    key_from_copy: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its base64 raw form (32 bytes); ``ValueError`` otherwise."""
    raw = base64.b64decode(text.strip(), validate=True)
    return Ed25519PublicKey.from_public_bytes(raw)


def _entries(raw: Any, result: Verification) -> list[LogEntry]:
    entries = []
    for n, item in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("payload"), dict):
            result.problems.append(f"entry {n}: not an entry")
            continue
        if item.get("seq") != n:
            result.problems.append(
                f"entry {n}: out of sequence (seq {item.get('seq')!r}): entries were removed or reordered"
            )
        entries.append(LogEntry(n, str(item.get("kind", "")), str(item.get("at", "")), item["payload"]))
    return entries


def _heads(raw: Any, result: Verification) -> list[SignedHead]:
    heads = []
    for n, item in enumerate(raw if isinstance(raw, list) else []):
        try:
            heads.append(
                SignedHead(
                    int(item["size"]), str(item["root"]), str(item["timestamp"]), str(item["signature"])
                )
            )
        except (KeyError, TypeError, ValueError):
            result.problems.append(f"head {n}: not a signed tree head")
    return sorted(heads, key=lambda h: h.size)


def verify_copy(
    copy: dict[str, Any],
    *,
    trusted_key: Ed25519PublicKey | None = None,
    checkpoint: dict[str, Any] | None = None,
) -> Verification:
    result = Verification()
    if copy.get("log") != FORMAT:
        result.problems.append(f"not a {FORMAT} copy")
        return result
    key = trusted_key
    if key is None:
        try:
            key = public_key(str(copy.get("public_key", "")))
        except ValueError:
            result.problems.append("the copy carries no usable public key and none was given")
            return result
        result.key_from_copy = True
    entries = _entries(copy.get("entries"), result)
    heads = _heads(copy.get("heads"), result)
    result.entries, result.heads = len(entries), len(heads)
    if not heads:
        result.problems.append("the copy holds no signed tree head")
    leaves = [e.leaf for e in entries]
    roots: dict[int, str] = {}
    extra = _heads([checkpoint], result) if checkpoint is not None else []
    for head in [*heads, *extra]:
        where = "checkpoint" if head in extra else f"head of size {head.size}"
        if not head.verify(key):
            result.problems.append(f"{where}: the signature does not verify with the log's key")
            continue
        if head.size in roots and roots[head.size] != head.root:
            result.problems.append(f"forked: two signed heads of size {head.size} with different roots")
            continue
        roots[head.size] = head.root
        if head.size > len(leaves):
            result.problems.append(
                f"truncated: {where} covers {head.size} entries, the copy holds {len(leaves)}"
            )
            continue
        if tree_head(leaves[: head.size]).hex() != head.root:
            word = "rewritten since the checkpoint" if head in extra else "tampered"
            result.problems.append(f"{word}: the first {head.size} entries do not match the {where}")
    return result
