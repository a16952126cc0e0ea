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
import logging
import socket
from functools import lru_cache
from typing import Any

from celery import Celery
from sqlalchemy import or_, select

from civicshield.analyzers.banks import KnownFakesAnalyzer, OfficialMediaAnalyzer
from civicshield.analyzers.base import Analyzer
from civicshield.analyzers.impersonation import ImpersonationAnalyzer
from civicshield.banks import BankKind, entries_for_media
from civicshield.errors import CivicShieldError, MediaError
from civicshield.fusion import Label, fuse
from civicshield.media import Media
from civicshield.protection.watchlist import Watchlist
from civicshield.service.domain import alerts, incidents, match_rates, notifications, protection, tips
from civicshield.service.domain.mailbox import Outgoing
from civicshield.service.domain.matches import LiveMatch
from civicshield.service.domain.states import JobState
from civicshield.service.domain.tables import Item, Job, utcnow
from civicshield.service.infra import delivery
from civicshield.service.infra.bank_index import OrgBanks
from civicshield.service.infra.mail import Mailer
from civicshield.service.infra.runtime import Runtime
from civicshield.service.infra.tiplines import send_pending
from civicshield.service.settings import ServiceSettings
from civicshield.signals import Signal
from civicshield.verdict import Verdict

log = logging.getLogger(__name__)
TASK = "civicshield.analyze_item"
QUEUE = "civicshield"
#: Items of an active election incident (``domain.incidents``): workers drain this queue first (Redis:
#: ``queue_order_strategy=priority``), and ``civicshield worker --queues surge`` reserves workers for it.
SURGE_QUEUE = "civicshield.surge"
MAX_ATTEMPTS = 5


def analyze_for(rt: Runtime, org_id: int, media: Media) -> tuple[Verdict, list[LiveMatch]]:
    """The engine's verdict, with the library's bank analyzers reading this service's database banks as
    ``org_id`` may see them (TLP applies) in place of the engine's file-bank analyzers of the same names, and
    the ``impersonation`` analyzer looking for the organization's protected people and domains; and what the
    bank analyzers matched, which queues ``match.found`` once the job's result is stored."""
    known = OrgBanks(rt.live, org_id, BankKind.KNOWN_FAKE)
    allowed = OrgBanks(rt.live, org_id, BankKind.ALLOWLIST)
    official = OrgBanks(rt.live, org_id, BankKind.AUTHENTIC)
    substitutes: tuple[Analyzer, ...] = (
        KnownFakesAnalyzer(known, allowlist=allowed),
        OfficialMediaAnalyzer(official),
    )
    with rt.db.reading() as s:
        watchlist = protection.watchlist_of(s, org_id)
    if len(watchlist):  # the organization's own protected people and domains (else the deployment's file)
        substitutes += (_impersonation(watchlist),)
    verdict = rt.engine.analyze(media, substitutes=substitutes)
    return verdict, known.found + official.found


def impersonations_of_others(
    rt: Runtime, org_id: int, media: Media, verdict: Verdict
) -> list[tuple[int, Signal]]:
    """The other organizations whose protected people or domains this item impersonates, each with its own
    signal: what the ``impersonation`` analyzer finds with that organization's entries, fused with the
    item's other evidence under the same policy, gives ``impersonation_suspected``. Nothing of it enters the
    submitter's verdict (the entries are the protected organization's, TLP:RED)."""
    with rt.db.reading() as s:
        others = protection.protecting_organizations(s, exclude=org_id)
        watchlists = {other: protection.watchlist_of(s, other) for other in others}
    if not watchlists:
        return []
    try:
        observed = ImpersonationAnalyzer.read(  # once, whatever the number of protecting organizations
            media,
            faces=any(w.has_faces for w in watchlists.values()),
            voices=any(w.has_voices for w in watchlists.values()),
            visuals=any(w.visuals for w in watchlists.values()),
        )
    except Exception:  # as run_analyzer does for the verdict's analyzers: a failed check raises no alert
        log.exception("impersonation check of other organizations' entries failed")
        return []
    evidence = [sig for sig in verdict.signals if sig.analyzer != ImpersonationAnalyzer.name]
    found = []
    for other, watchlist in watchlists.items():
        signal = _impersonation(watchlist).judge(observed)
        if (
            signal.findings
            and fuse([*evidence, signal], rt.engine.policy).label is Label.IMPERSONATION_SUSPECTED
        ):
            found.append((other, signal))
    return found


@lru_cache(maxsize=64)
def _impersonation(watchlist: Watchlist) -> ImpersonationAnalyzer:
    """One analyzer per distinct watchlist (its lookalikes are generated once, not per job)."""
    return ImpersonationAnalyzer(watchlist)


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
        task_default_queue=QUEUE,
    )
    return app


def _transport_options(settings: ServiceSettings) -> dict[str, Any]:
    if settings.broker.startswith(("redis", "rediss")):  # surge queue first, always
        return {"visibility_timeout": settings.job_lease_s, "queue_order_strategy": "priority"}
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


def enqueue(celery: Celery, job_id: int, *, surge: bool = False) -> None:
    celery.send_task(TASK, args=[job_id], queue=SURGE_QUEUE if surge else QUEUE)


def run_job(rt: Runtime, job_id: int) -> str:
    """Analyze one job's item and store the report. Returns the job's final state."""
    with rt.db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            return "missing"
        if job.state in {JobState.DONE, JobState.FAILED}:
            return job.state
        job.state = JobState.RUNNING
        job.attempts += 1
        job.worker = f"{socket.gethostname()}"
        item = s.get(Item, job.item_id)
        sha = item.sha256 if item else None
        name = item.filename if item else "item"
        org_id = job.org_id
    report: dict[str, Any] | None = None
    impersonated: list[tuple[int, Signal]] = []
    error: dict[str, Any] | None = None
    label: str | None = None
    matches: list[LiveMatch] = []
    try:
        if sha is None:
            raise MediaError("hashes-only submission: nothing to analyze")
        media = Media.from_bytes(rt.blobs.get(sha), name=name, limits=rt.settings.analysis.limits)
        verdict, matches = analyze_for(rt, org_id, media)
        impersonated = impersonations_of_others(rt, org_id, media, verdict)
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
        job.state = JobState.DONE if error is None else JobState.FAILED
        job.report, job.label, job.error = report, label, error
        item = s.get(Item, job.item_id)
        if item is not None and hashes is not None:
            item.hashes = hashes
        if matches and error is None:
            source = {"via": "analysis", "item_id": job.item_id, "job_id": job.id, "sha256": sha}
            alerts.matches_found(s, org_id, matches, base_url=rt.settings.base_url, source=source)
            match_rates.record(s, matches)
        mail: list[Outgoing] = []
        for protected_org, signal in impersonated if error is None else []:
            raised = notifications.impersonation_detected(
                s, protected_org, signal, submitter_org_id=org_id, item_sha256=sha or ""
            )
            if raised.count == 1:  # a new notification, not a repeat folded into an open one
                mail += notifications.mail_for(s, raised, rt.settings.base_url)
        placed = tips.place(s, item, rt.settings.base_url) if item is not None and error is None else []
        state = job.state
    _send(Mailer(rt.settings.mail), mail)  # once the notifications are committed; mail never fails a job
    if placed:
        send_pending(rt)  # the tips this item answers or acknowledges
    return state


def _send(postbox: Mailer, mail: list[Outgoing]) -> None:
    if not mail or not postbox.enabled:
        return
    for message in mail:
        try:
            postbox.send(message)
        except CivicShieldError:
            log.warning("threat notification to %s not mailed; it is in the inbox", message.to)


def _store_artefacts(rt: Runtime, verdict: Any, report: dict[str, Any]) -> None:
    """Keep heatmaps, face boxes and timelines as content-addressed blobs; the report names them by sha256."""
    for signal, out in zip(verdict.signals, report["signals"], strict=True):
        for artefact, meta in zip(signal.artefacts, out["artefacts"], strict=True):
            if artefact.media_type.startswith("image/") and len(artefact.data) <= 8 * 1024 * 1024:
                meta["blob"] = rt.blobs.put(artefact.data)


def item_hashes(media: Media) -> dict[str, Any]:
    """The item's identifiers as bank-entry dicts (what publishing adds to a bank), computed once."""
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
                    Job.state.in_((JobState.QUEUED, JobState.RUNNING)),
                    Job.updated_at < cutoff,
                    or_(Job.attempts < MAX_ATTEMPTS, Job.state == JobState.QUEUED),
                )
            )
        )
        for job in stale:
            job.state = JobState.QUEUED
            job.updated_at = utcnow()
        ids = [(j.id, incidents.active_for_item(s, j.item_id)) for j in stale]
    for job_id, surge in ids:
        enqueue(celery, job_id, surge=surge)
    return [job_id for job_id, _ in ids]


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
