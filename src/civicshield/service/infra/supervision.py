"""The embedded worker lives and dies with the ``serve`` process that started it, and with its settings.

Seen in the red-team run: stopping ``civicshield serve`` left its worker running, and the orphan went on
processing jobs with the settings it was started with. Two causes: uvicorn re-raises SIGTERM after its
graceful shutdown, so the default handler ended the server before its ``finally`` could stop the child; and
nothing ended the child when the server died without cleaning up (SIGKILL, a crash).

Now: ``serve`` handles SIGTERM/SIGINT itself and stops the worker before it exits; the worker is started in
its own process group (so signals meant for it reach its pool processes too), is told its parent's pid and
the fingerprint of the settings it was started with, and a watcher thread in the worker ends it (a warm
Celery shutdown: the job in hand is finished or re-queued) as soon as the parent is gone or the settings
file in the data directory names other settings: it refuses to serve with settings that changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

from civicshield.service.settings import ServiceSettings

__all__ = ["ParentWatch", "fingerprint", "settings_file", "write_fingerprint"]

log = logging.getLogger(__name__)
PARENT_ENV = "CIVICSHIELD_PARENT_PID"
FINGERPRINT_ENV = "CIVICSHIELD_SETTINGS_FINGERPRINT"


def fingerprint(settings: ServiceSettings) -> str:
    """A digest of what a worker's behaviour depends on (secrets only as their hash)."""
    analysis = settings.analysis
    material = {
        "database": settings.db_url,
        "broker": settings.broker,
        "secret": hashlib.sha256(settings.secret_key.encode()).hexdigest(),
        "webhook_networks": list(settings.webhook_allowed_networks),
        "job_lease_s": settings.job_lease_s,
        "analysis": {
            "analyzers": list(analysis.analyzers or ()),
            "plugins": list(analysis.plugins),
            "trust": analysis.trust,
            "anchors": str(analysis.extra_trust_anchors or ""),
            "limits": vars(analysis.limits),
            "options": {k: dict(v) for k, v in analysis.analyzer_options.items()},
            "watchlist": str(analysis.watchlist or ""),
        },
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()[:32]


def settings_file(settings: ServiceSettings) -> Path:
    return Path(settings.data_dir) / "serve-settings.json"


def write_fingerprint(settings: ServiceSettings) -> str:
    """Record the running server's settings for its worker (and any older worker still around) to check."""
    digest = fingerprint(settings)
    path = settings_file(settings)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # API processes sharing a data directory write it too
    tmp.write_text(json.dumps({"pid": os.getpid(), "fingerprint": digest}))
    tmp.replace(path)
    return digest


class ParentWatch:
    """In an embedded worker: calls ``stop`` once the parent server is gone or its settings changed."""

    def __init__(
        self, settings: ServiceSettings, stop: Callable[[str], None], interval_s: float = 1.0
    ) -> None:
        self.parent = int(os.environ.get(PARENT_ENV, "0") or 0)
        self.expected = os.environ.get(FINGERPRINT_ENV, "")
        self.path = settings_file(settings)
        self.stop = stop
        self.interval_s = interval_s
        self._done = threading.Event()

    @property
    def active(self) -> bool:
        return self.parent > 0

    def reason(self) -> str | None:
        """Why this worker must stop now, or ``None``."""
        if os.getppid() != self.parent:
            return f"the server (pid {self.parent}) is gone"
        try:
            current = json.loads(self.path.read_text()).get("fingerprint")
        except (OSError, ValueError):
            return None  # written by the server before it started us; a moment's absence is a rename
        if self.expected and current != self.expected:
            return "the server's settings changed since this worker started"
        return None

    def start(self) -> None:
        if self.active:
            threading.Thread(target=self._run, daemon=True, name="parent-watch").start()

    def _run(self) -> None:
        while not self._done.wait(self.interval_s):
            why = self.reason()
            if why is not None:
                log.warning("embedded worker stopping: %s", why)
                self._done.set()
                self.stop(why)


def terminate_self(_why: str) -> None:
    """Celery's warm shutdown: finish (or re-queue) the job in hand, then exit."""
    os.kill(os.getpid(), signal.SIGTERM)
