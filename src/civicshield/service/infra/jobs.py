"""Analysis jobs on Celery.

The database ``jobs`` table is the source of truth; the broker only carries job ids. Tasks acknowledge late
and are rejected back to the queue when their worker dies, and ``requeue_stale`` re-sends any job whose lease
expired (a worker killed mid-run on a broker that does not redeliver), so a job is never lost. Running a job
twice is harmless: it writes the same report, and a finished job is skipped.

Brokers: embedded default = Kombu's SQLAlchemy transport over a SQLite file (durable, no external service);
scale-out = Redis or RabbitMQ via ``CIVICSHIELD_BROKER_URL`` and ``civicshield worker`` on any machine.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from celery import Celery
from sqlalchemy import or_, select

from civicshield.errors import MediaError
from civicshield.media import Media
from civicshield.pipeline import Engine
from civicshield.service.domain import alerts
from civicshield.service.domain.tables import Item, Job, utcnow
from civicshield.service.infra import delivery
from civicshield.service.infra.blobs import BlobStore
from civicshield.service.infra.db.engine import Database
from civicshield.service.settings import ServiceSettings
from civicshield.signals import Signal

if TYPE_CHECKING:
    from civicshield.service.domain.banks import LiveMatch

log = logging.getLogger(__name__)
TASK = "civicshield.analyze_item"
MAX_ATTEMPTS = 5


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
    _live: Any = None
    _public: Any = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = Engine.from_settings(self.settings.analysis)
            report_lineup(self.settings, self._engine)
        return self._engine

    def reset_engine(self) -> None:
        self._engine = None

    @property
    def public_checker(self) -> Any:
        """Anonymous checks, analyzed in a separate process (``service.public_checks.PublicChecker``)."""
        if self._public is None:
            from civicshield.service.infra.public_checks import PublicChecker

            s = self.settings
            self._public = PublicChecker(s.analysis, s.public_limits, s.public_concurrency)
        return self._public

    @property
    def live(self) -> Any:
        """The live index of this service's database banks (``service.banks.LiveIndex``)."""
        if self._live is None:
            from civicshield.service.domain.banks import LiveIndex

            self._live = LiveIndex(self.db)
            self._live.rebuild()
        return self._live


def bank_lookup(rt: Runtime, org_id: int, media: Media) -> tuple[list[Signal], list[LiveMatch]]:
    """What this service's own banks (published fact-checks, registered official media) say about the item,
    as seen by the submitting organization (TLP applies): the signal for fusion, and the matches behind it,
    which queue ``match.found`` once the job's result is stored."""
    from civicshield.errors import CivicShieldError
    from civicshield.hashing.cache import media_hashes
    from civicshield.service.domain.banks import signals_for

    try:
        hashes = media_hashes(media)
    except CivicShieldError as exc:
        return [Signal.abstain("service_banks", f"not hashed: {exc.message}")], []
    found: list[LiveMatch] = rt.live.match(org_id, hashes)
    return signals_for(found, hashes.sha256), found


def make_celery(settings: ServiceSettings) -> Celery:
    app = Celery("civicshield", broker=settings.broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options=_transport_options(settings),
        worker_hijack_root_logger=False,
        task_default_queue="civicshield",
    )
    return app


def _transport_options(settings: ServiceSettings) -> dict[str, Any]:
    if settings.broker.startswith(("redis", "rediss")):
        return {"visibility_timeout": settings.job_lease_s}
    if settings.broker.startswith("sqla+"):
        _poll_embedded_queue_faster()
    return {}


def _poll_embedded_queue_faster() -> None:
    """The embedded queue is polled: Kombu's default of once a second capped the embedded worker at about
    one job a second however fast the jobs were (seen in bench/bench_load.py); a tenth of a second costs one
    small SQLite read per tick. Kombu's SQLAlchemy transport hands its transport options to
    ``create_engine``, so the interval is set on the transport class instead."""
    from kombu.transport import sqlalchemy as embedded

    embedded.Transport.polling_interval = 0.1


def enqueue(celery: Celery, job_id: int) -> None:
    celery.send_task(TASK, args=[job_id])


def run_job(rt: Runtime, job_id: int) -> str:
    """Analyze one job's item and store the report. Returns the job's final state."""
    with rt.db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            return "missing"
        if job.state in {"done", "failed"}:
            return job.state
        job.state = "running"
        job.attempts += 1
        job.worker = f"{socket.gethostname()}"
        item = s.get(Item, job.item_id)
        sha = item.sha256 if item else None
        name = item.filename if item else "item"
        org_id = job.org_id
    report: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    label: str | None = None
    matches: list[LiveMatch] = []
    try:
        if sha is None:
            raise MediaError("hashes-only submission: nothing to analyze")
        media = Media.from_bytes(rt.blobs.get(sha), name=name, limits=rt.settings.analysis.limits)
        signals, matches = bank_lookup(rt, org_id, media)
        verdict = rt.engine.analyze(media, extra_signals=signals)
        report, label = verdict.to_dict(), str(verdict.label)
        _store_artefacts(rt, verdict, report)
        hashes = item_hashes(media)
    except MediaError as exc:
        error = exc.to_dict()["error"]  # type: ignore[assignment]
        hashes = None
    with rt.db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            return "missing"
        job.state = "done" if error is None else "failed"
        job.report, job.label, job.error = report, label, error
        item = s.get(Item, job.item_id)
        if item is not None and hashes is not None:
            item.hashes = hashes
        if matches and error is None:
            source = {"via": "analysis", "item_id": job.item_id, "job_id": job.id, "sha256": sha}
            alerts.matches_found(s, org_id, matches, base_url=rt.settings.base_url, source=source)
        return job.state


def _store_artefacts(rt: Runtime, verdict: Any, report: dict[str, Any]) -> None:
    """Keep heatmaps, face boxes and timelines as content-addressed blobs; the report names them by sha256."""
    for signal, out in zip(verdict.signals, report["signals"], strict=True):
        for artefact, meta in zip(signal.artefacts, out["artefacts"], strict=True):
            if artefact.media_type.startswith("image/") and len(artefact.data) <= 8 * 1024 * 1024:
                meta["blob"] = rt.blobs.put(artefact.data)


def item_hashes(media: Media) -> dict[str, Any]:
    """The item's identifiers as bank-entry dicts (what publishing adds to a bank), computed once."""
    from civicshield.banks import entries_for_media
    from civicshield.errors import CivicShieldError

    try:
        entries = entries_for_media(media, "")
    except CivicShieldError as exc:
        return {"entries": [{"signal_type": "sha256", "hash": media.sha256}], "notes": [exc.message]}
    return {
        "entries": [
            {"signal_type": e.signal_type.value, "hash": e.hash, "quality": e.quality} for e in entries
        ]
    }


def requeue_stale(rt: Runtime, celery: Celery, *, now: dt.datetime | None = None) -> list[int]:
    """Re-send jobs whose lease expired: queued or running but untouched for longer than the lease."""
    cutoff = (now or utcnow()) - dt.timedelta(seconds=rt.settings.job_lease_s)
    with rt.db.session() as s:
        stale = list(
            s.scalars(
                select(Job).where(
                    Job.state.in_(("queued", "running")),
                    Job.updated_at < cutoff,
                    or_(Job.attempts < MAX_ATTEMPTS, Job.state == "queued"),
                )
            )
        )
        for job in stale:
            job.state = "queued"
            job.updated_at = utcnow()
        ids = [j.id for j in stale]
    for job_id in ids:
        enqueue(celery, job_id)
    return ids


def bind_task(celery: Celery, rt: Runtime) -> None:
    """Register the analysis and webhook-delivery tasks on ``celery`` with ``rt`` as their runtime."""
    delivery.bind(celery, rt)

    @celery.task(name=TASK, bind=True, max_retries=3, acks_late=True)  # type: ignore[untyped-decorator]
    def analyze_item(task: Any, job_id: int) -> str:
        try:
            return run_job(rt, job_id)
        except Exception as exc:  # infrastructure hiccup (DB locked, disk): retry with backoff
            log.exception("job %s failed; retrying", job_id)
            raise task.retry(exc=exc, countdown=2**task.request.retries) from exc
