"""Process entry points: ``serve`` (API + embedded worker) and ``worker`` (scale-out)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from celery import Celery

from civicshield.service import compose
from civicshield.service.domain import audit_anchor, onboarding, store
from civicshield.service.infra import delivery, lifecycle, logs
from civicshield.service.infra.jobs import QUEUE, SURGE_QUEUE, requeue_stale
from civicshield.service.infra.runtime import Runtime
from civicshield.service.infra.supervision import (
    FINGERPRINT_ENV,
    PARENT_ENV,
    ParentWatch,
    fingerprint,
    terminate_self,
    write_fingerprint,
)
from civicshield.service.settings import ServiceSettings

log = logging.getLogger(__name__)
PURGE_EVERY_S = 3600.0  # retention (``lifecycle.purge``) runs hourly in each worker


def _reaper(rt: Runtime, celery: Celery, stop: threading.Event) -> None:
    """Re-send jobs whose lease expired, and wake the delivery task for due webhook deliveries (retries,
    and deliveries queued while the broker was unreachable)."""
    interval = max(1.0, rt.settings.job_lease_s / 3)
    last_requeue = time.monotonic()
    last_checkpoint = last_purge = -float("inf")
    while not stop.wait(min(interval, delivery.SWEEP_S)):
        if time.monotonic() - last_purge >= PURGE_EVERY_S:
            last_purge = time.monotonic()
            try:
                with rt.db.session() as s:
                    removed = lifecycle.purge(s, rt.blobs, rt.settings.retention, store.PUBLIC_INTAKE_ORG)
                if any(removed.values()):
                    log.info("retention: removed %s", removed)
            except Exception:
                log.exception("retention pass failed")
        if time.monotonic() - last_checkpoint >= rt.settings.audit_checkpoint_s:
            last_checkpoint = time.monotonic()
            try:
                with rt.db.session() as s:
                    audit_anchor.checkpoint_all(s, audit_anchor.service_key(rt.settings.audit_key_path))
            except Exception:
                log.exception("audit checkpoint pass failed")
        if time.monotonic() - last_requeue >= interval:
            last_requeue = time.monotonic()
            try:
                ids = requeue_stale(rt, celery)
                if ids:
                    log.warning("re-queued stale jobs %s", ids)
            except Exception:
                log.exception("reaper pass failed")
        try:
            delivery.sweep(rt, celery)
        except Exception:
            log.exception("delivery sweep failed")


def run_worker(
    settings: ServiceSettings, *, concurrency: int = 1, hostname: str | None = None, queues: str = "all"
) -> None:
    """A Celery worker for analysis jobs; also re-sends jobs whose lease expired. ``queues``: ``all`` (the
    surge queue of election incidents first, then the rest) or ``surge`` (a worker reserved for incidents)."""
    logs.configure(settings.log_format)
    from celery.signals import setup_logging

    setup_logging.connect(lambda **_: None, weak=False)  # Celery keeps our handlers instead of its own
    rt = compose.runtime(settings)
    db = rt.db
    if settings.analysis.required_analyzers:  # a required analyzer that cannot load stops the worker now
        rt.engine.close()
        rt.reset_engine()  # pool processes load their own (onnxruntime sessions do not survive a fork)
    celery = compose.queue(rt)
    from celery.signals import worker_process_init

    # A forked pool process must not share the parent's pooled connections (the reaper thread uses them).
    worker_process_init.connect(lambda **_: db.engine.dispose(close=False), weak=False)
    # ... and loads its analyzers while it waits for its first job (the models are the slow part of it).
    worker_process_init.connect(lambda **_: rt.warm_engine(), weak=False)
    stop = threading.Event()
    threading.Thread(target=_reaper, args=(rt, celery, stop), daemon=True, name="reaper").start()
    ParentWatch(settings, terminate_self).start()  # embedded worker: ends with its server or its settings
    argv = [
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        "-Q",
        SURGE_QUEUE if queues == "surge" else f"{SURGE_QUEUE},{QUEUE}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if hostname:
        argv.append(f"--hostname={hostname}")
    try:
        celery.worker_main(argv=argv)
    finally:
        stop.set()


def settings_env(settings: ServiceSettings) -> dict[str, str]:
    """The variables that give a child process (the embedded worker, further API processes) this
    process's settings: ``ServiceSettings.from_env`` there reads what this one was started with."""
    return {
        "CIVICSHIELD_DATA_DIR": str(Path(settings.data_dir).resolve()),
        "CIVICSHIELD_DATABASE_URL": settings.db_url,
        "CIVICSHIELD_BROKER_URL": settings.broker,
        "CIVICSHIELD_SECRET_KEY": settings.secret_key,
        "CIVICSHIELD_BASE_URL": settings.base_url,
        "CIVICSHIELD_WEBHOOK_ALLOWED_NETWORKS": ",".join(settings.webhook_allowed_networks),
    }


def spawn_worker(settings: ServiceSettings, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The embedded worker, as a child process sharing the service's settings through the environment."""
    child_env = dict(os.environ if env is None else env)
    child_env.update(
        {PARENT_ENV: str(os.getpid()), FINGERPRINT_ENV: fingerprint(settings), **settings_env(settings)}
    )
    return subprocess.Popen(
        [sys.executable, "-m", "civicshield", "worker"], env=child_env, start_new_session=True
    )


def serve(
    settings: ServiceSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    worker: bool = True,
    processes: int = 1,
    access_log: bool = True,
) -> None:
    """The API under uvicorn, with the embedded worker as a child that ends when the server ends.

    With ``processes`` above 1, uvicorn starts that many API processes on the one socket (each builds
    the app from ``settings_env``); they share large banks' indexes through files under the data folder
    (``live_index.PdqSnapshots``) and follow the database like any other replica."""
    import uvicorn

    from civicshield.service.app import create_app

    if processes > 1:
        rt = compose.runtime(settings)  # migrated once, here, before the API processes start
        app: object = "civicshield.service.app:create_app"
        os.environ.update(settings_env(settings))
    else:
        built = create_app(settings)
        rt, app = built.state.rt, built
    if settings.analysis.required_analyzers:  # a strict deployment refuses to start without them
        _ = rt.engine
    write_fingerprint(settings)
    _print_setup_link(rt)
    if processes > 1:
        rt.db.dispose()  # the API processes open their own connections
    child = spawn_worker(settings) if worker else None
    logs.configure(settings.log_format)
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_level="info",
        log_config=None,
        access_log=access_log,
        factory=processes > 1,
        workers=processes if processes > 1 else None,
    )
    server = uvicorn.Server(config)

    def stop_everything(signum: int, _frame: object) -> None:
        # uvicorn calls this after its own graceful shutdown (it re-raises the signal it caught)
        _stop_worker(child)
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop_everything)
    try:
        if processes > 1:
            from uvicorn.supervisors import Multiprocess

            sock = config.bind_socket()
            Multiprocess(config, sockets=[sock]).run()
        else:
            server.run()
    finally:
        _stop_worker(child)


def _print_setup_link(rt: Runtime) -> None:
    """While the coalition has no operator (the first start): a one-time link that creates the first one."""
    with rt.db.session() as s:
        link = onboarding.setup_link(s, rt.settings.base_url)
    if link:
        print(f"\nNo operator yet. Create the first one (valid 24 h, once): {link}\n", flush=True)


def _stop_worker(child: subprocess.Popen[bytes] | None) -> None:
    """Warm shutdown of the worker's whole process group (its pool too), then a kill if it hangs."""
    if child is None or child.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)
    try:
        child.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=5)
