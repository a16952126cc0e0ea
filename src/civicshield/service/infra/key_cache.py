"""API keys resolved once every few seconds instead of on every request.

Resolving a key costs three database reads (the key, its user, the user's organization) in a transaction of
its own: 39 % of the match API's time under load (``bench/profile_service.py``). A platform checking every
upload sends the same key thousands of times a second, so the resolved ``Principal`` is kept for
``ttl_s`` seconds, under the key's SHA-256 (the token itself is never stored here).

Freshness: anything this process commits to API keys, users or organizations (a revocation, a role
change, a deactivated account, a suspended organization) empties the cache at once. Changes made by another
process (another API process, ``civicshield admin``) are seen within ``ttl_s`` seconds; ``ttl_s = 0``
turns the cache off (``CIVICSHIELD_KEY_CACHE_S``). Unknown or revoked keys are never cached, so a guesser
costs a database read each, as before, and is throttled by the rate limits.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction

from civicshield.service.domain.principal import Principal
from civicshield.service.domain.tables import ApiKey, Organization, User

__all__ = ["KeyCache"]

MAX_KEYS = 10_000  # distinct keys held; past this the cache starts again empty
_WATCHED = (ApiKey, User, Organization)
_BOOKKEEPING = frozenset({"last_used_at", "totp_last_step"})  # written as keys and factors are used


class _Generation:
    """Bumped after any commit that changed an API key, a user or an organization in this process."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def flushed(self, session: Session, _flush: UOWTransaction, _instances: object) -> None:
        added_or_removed = any(isinstance(o, _WATCHED) for o in (*session.new, *session.deleted))
        if added_or_removed or any(isinstance(o, _WATCHED) and _changes_who(o) for o in session.dirty):
            session.info["key_cache_stale"] = True

    def committed(self, session: Session) -> None:
        if session.info.pop("key_cache_stale", None):
            with self._lock:
                self.value += 1

    @staticmethod
    def rolled_back(session: Session) -> None:
        session.info.pop("key_cache_stale", None)


def _changes_who(obj: object) -> bool:
    """Whether a changed row changes who a key acts as (not only its use being noted)."""
    state = inspect(obj)
    return any(a.history.has_changes() for a in state.attrs if a.key not in _BOOKKEEPING)


_generation = _Generation()
event.listen(Session, "before_flush", _generation.flushed)
event.listen(Session, "after_commit", _generation.committed)
event.listen(Session, "after_rollback", _generation.rolled_back)


class KeyCache:
    """Resolved principals by key, for ``ttl_s`` seconds (0: never kept)."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._held: dict[bytes, tuple[float, Principal]] = {}
        self._generation = _generation.value

    @staticmethod
    def _digest(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    @staticmethod
    def stamp() -> int:
        """Take this before reading a key from the database, and give it to ``put``: a principal read
        before a change that committed meanwhile is not kept."""
        return _generation.value

    def get(self, token: str) -> Principal | None:
        if self.ttl_s <= 0:
            return None
        if self._generation != _generation.value:  # this process changed keys, users or organizations
            self._held, self._generation = {}, _generation.value
            return None
        held = self._held.get(self._digest(token))
        if held is None or held[0] <= self._clock():
            return None
        return held[1]

    def put(self, token: str, principal: Principal, stamp: int) -> None:
        if self.ttl_s <= 0 or stamp != _generation.value:
            return
        if self._generation != stamp:
            self._held, self._generation = {}, stamp
        if len(self._held) >= MAX_KEYS:
            self._held = {}
        self._held[self._digest(token)] = (self._clock() + self.ttl_s, principal)
