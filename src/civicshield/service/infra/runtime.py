"""``Runtime``: what one service process holds — its settings, database, blob store, the analysis engine,
the live index of the database banks and the pool for anonymous checks — each built on first use.

Built once by the composition root (``service.app.create_app`` for the API process, ``service.runner`` for
workers) and handed to everything else; nothing else constructs these parts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from civicshield.pipeline import Engine
from civicshield.service.infra import transparency_key
from civicshield.service.infra.bank_index import LiveIndex
from civicshield.service.infra.blobs import BlobStore
from civicshield.service.infra.db.engine import Database
from civicshield.service.infra.key_cache import KeyCache
from civicshield.service.infra.live_index import PdqSnapshots
from civicshield.service.infra.public_checks import PublicChecker
from civicshield.service.settings import ServiceSettings

log = logging.getLogger(__name__)


def lineup_file(settings: ServiceSettings) -> Path:
    return Path(settings.data_dir) / "analyzers.json"


def report_lineup(settings: ServiceSettings, engine: Engine) -> None:
    """Record which analyzers this process could load (read by ``/readyz``): the process that builds an
    engine is the one that knows whether a model loads, and the API process usually never builds one."""
    path = lineup_file(settings)
    record = {
        "ready": sorted(a.name for a in engine.analyzers),
        "unavailable": [u.to_dict() for u in engine.unavailable],
        "pid": os.getpid(),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record, indent=2))
        tmp.replace(path)
    except OSError:
        log.exception("could not record the analyzer lineup in %s", path)


@dataclass
class Runtime:
    settings: ServiceSettings
    db: Database
    blobs: BlobStore
    _engine: Engine | None = None
    _live: LiveIndex | None = None
    _public: PublicChecker | None = None
    _transparency_key: Ed25519PrivateKey | None = None
    keys: KeyCache = field(init=False)
    _engine_lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.keys = KeyCache(self.settings.key_cache_s)

    @property
    def engine(self) -> Engine:
        """The analysis engine, built on first use; a caller arriving while another thread builds it (a
        worker's warm-up, ``warm_engine``) waits for that one instead of loading the models twice."""
        with self._engine_lock:
            if self._engine is None:
                self._engine = Engine.from_settings(self.settings.analysis)
                report_lineup(self.settings, self._engine)
            return self._engine

    def warm_engine(self) -> threading.Thread:
        """Build the engine in the background, so that the first job does not wait for every model to
        load; a failure here is logged and left to the first job, which reports it as usual."""

        def build() -> None:
            try:
                _ = self.engine
            except Exception:
                log.exception("loading the analyzers in the background failed; the first job will try again")

        thread = threading.Thread(target=build, name="engine-warm-up", daemon=True)
        thread.start()
        return thread

    def reset_engine(self) -> None:
        with self._engine_lock:
            self._engine = None

    @property
    def transparency_key(self) -> Ed25519PrivateKey:
        """The transparency log's signing key (made on first use under the data folder)."""
        if self._transparency_key is None:
            self._transparency_key = transparency_key.load_or_create(self.settings.data_dir)
        return self._transparency_key

    @property
    def public_checker(self) -> PublicChecker:
        """Anonymous checks, analyzed in a separate process."""
        if self._public is None:
            s = self.settings
            self._public = PublicChecker(s.analysis, s.public_limits, s.public_concurrency)
        return self._public

    @property
    def live(self) -> LiveIndex:
        """The live index of this service's database banks."""
        if self._live is None:
            snapshots = PdqSnapshots(Path(self.settings.data_dir) / "pdq-index")
            self._live = LiveIndex(self.db, snapshots=snapshots)
            self._live.rebuild()
        return self._live
