"""Passwords (argon2id), API keys (random tokens stored as sha256), roles."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) defaults


_dummy: tuple[PasswordHasher, str] | None = None


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Swap the hasher (tests use cheap parameters; stored hashes carry their own parameters)."""
    global _hasher
    _hasher = hasher


def verify_nothing(password: str) -> None:
    """The work of one failed verification, for an unknown address: signing in then takes as long whether
    or not the address has an account (hashing a fresh dummy each time took twice as long and told)."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash(secrets.token_urlsafe(16)))
    verify_password(_dummy[1], password)


KEY_PREFIX = "cs_"


class Role(StrEnum):
    """Ordered: each role can do what the ones before it can."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    REVIEWER = "reviewer"
    ORG_ADMIN = "org_admin"
    PLATFORM_ADMIN = "platform_admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


class OrgKind(StrEnum):
    FACT_CHECKER = "fact_checker"
    ELECTION_AUTHORITY = "election_authority"
    BROADCASTER = "broadcaster"
    PLATFORM = "platform"
    PARTY = "party"
    NGO = "ngo"
    NEWSROOM = "newsroom"
    OPERATOR = "operator"  # the coalition's operators (role platform_admin), made by the set-up link


class Scope(StrEnum):
    READ = "read"
    SUBMIT = "submit"
    MATCH = "match"
    REVIEW = "review"
    ADMIN = "admin"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class NewKey:
    token: str  # shown once
    prefix: str
    key_hash: str


def new_api_key() -> NewKey:
    prefix = secrets.token_hex(4)
    token = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(token=token, prefix=prefix, key_hash=hash_key(token))


def hash_key(token: str) -> str:
    """API keys, session tokens and one-time link tokens carry 256 bits of entropy, so a plain sha256 is
    enough to store them (no slow hash needed, unlike passwords)."""
    return hashlib.sha256(token.encode()).hexdigest()


def key_prefix(token: str) -> str | None:
    if not token.startswith(KEY_PREFIX):
        return None
    head = token[len(KEY_PREFIX) :].split("_", 1)
    return head[0] if len(head) == 2 and len(head[0]) == 8 else None


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
