"""``KeyedOnce``: callers that ask for the same key at the same time compute it once.

The engine runs an item's analyzers on several threads (``Settings.analysis_threads``); three of them read
the item's perceptual hashes and three its forensic decode. Those results are cached, but a cache alone
lets two threads that miss at the same moment both compute: here the second waits for the first and then
finds the cached value.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["KeyedOnce"]


class KeyedOnce:
    """One lock per key while anyone holds or waits for it; forgotten when the last one leaves."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def held(self, key: str) -> Iterator[None]:
        """Hold ``key``: check the cache again inside, compute only if it is still missing."""
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)
