"""Anonymous checks (the public /verify page): bounded, queued, and analyzed outside the API process.

The red-team run sent an anonymous 231 KB PNG of 8,900 x 8,900 pixels (under the general 80 MP cap): the
API process went from 1.7 to 4.1 GB in 10 s, three at once to 9 GB. Three measures:

* stricter limits for anonymous media (``public_limits``: 16 MP, 50 MB, 10 minutes), checked from the header
  before anything is decoded, with the decoded size counted in bytes as well as in pixels;
* at most ``public_concurrency`` anonymous checks at a time: the next one is told to retry (503), it does not
  queue up memory;
* the analysis itself runs in a separate process (a small pool, recycled every ``TASKS_PER_PROCESS`` checks
  so that memory a large image took is given back); a crash there (out of memory) is an error for that one
  request, and the API process never holds the decoded pixels.
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from civicshield.errors import Busy, MediaError, MediaTooLarge
from civicshield.hashing.cache import MediaHashes, media_hashes
from civicshield.media import Media
from civicshield.pipeline import Engine
from civicshield.settings import Limits
from civicshield.settings import Settings as AnalysisSettings
from civicshield.verdict import Verdict

__all__ = ["PublicCheck", "PublicChecker"]

TASKS_PER_PROCESS = 20


@dataclass(frozen=True)
class PublicCheck:
    """What crosses back from the analysis process: the verdict as its JSON form, and the hashes."""

    report: dict[str, Any]  # ``Verdict.to_dict()``
    label: str
    confidence: float
    hashes: MediaHashes | None
    note: str | None  # why there are no hashes (e.g. an undecodable frame), shown to the person

    @classmethod
    def of(cls, verdict: Verdict, hashes: MediaHashes | None, note: str | None) -> PublicCheck:
        return cls(verdict.to_dict(), str(verdict.label), verdict.confidence, hashes, note)


_engine: Engine | None = None


def _start(settings: AnalysisSettings) -> None:
    global _engine
    _engine = Engine.from_settings(settings)


def _check(data: bytes, name: str, limits: Limits) -> PublicCheck:
    """In the pool process: media, verdict and hashes of one anonymous file."""
    assert _engine is not None
    media = Media.from_bytes(data, name=name, limits=limits)
    verdict = _engine.analyze(media)
    try:
        return PublicCheck.of(verdict, media_hashes(media), None)
    except MediaError as exc:
        return PublicCheck.of(verdict, None, exc.message)


class PublicChecker:
    """The pool of analysis processes for anonymous checks, and its admission control."""

    def __init__(self, analysis: AnalysisSettings, limits: Limits, concurrency: int) -> None:
        self.analysis = analysis
        self.limits = limits
        self.concurrency = max(1, concurrency)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        atexit.register(self.close)

    def probe(self, data: bytes, name: str) -> Media:
        """Refuse, before any decoding, what is over the public limits (``MediaError``)."""
        return Media.from_bytes(data, name=name, limits=self.limits)

    def check(self, data: bytes, name: str) -> PublicCheck:
        """Analyze in the pool; ``Busy`` when ``concurrency`` checks are already running."""
        if not self._slots.acquire(blocking=False):
            raise Busy("the public check is busy; try again in a minute")
        try:
            return self._pool_or_new().submit(_check, data, name, self.limits).result(timeout=600)
        except BrokenProcessPool as exc:
            self._drop()
            raise MediaTooLarge(f"{name}: checking this file needed more memory than allowed") from exc
        finally:
            self._slots.release()

    def _pool_or_new(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.concurrency,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start,
                    initargs=(self.analysis,),
                    max_tasks_per_child=TASKS_PER_PROCESS,
                )
            return self._pool

    def _drop(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._drop()
