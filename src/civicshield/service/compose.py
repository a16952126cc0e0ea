"""The composition root: the one place the service's parts are built and wired, in order — settings →
database (migrated) → blob store → queue → live bank index and analysis engine (built on first use by the
``Runtime``) → the web app (``service.app.create_app``).

``serve``, ``worker``, the demo seeder and the admin commands all start here, so a part is never built two
ways. Everything else receives what it needs (a ``Runtime``, a session, settings) as an argument.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery import Celery

from civicshield.service.infra.blobs import BlobStore
from civicshield.service.infra.db.engine import Database
from civicshield.service.infra.jobs import bind_task, make_celery
from civicshield.service.infra.runtime import Runtime
from civicshield.service.settings import ServiceSettings

__all__ = ["database", "opened", "queue", "runtime"]


def database(settings: ServiceSettings) -> Database:
    """The service's database, migrated to the current schema (the data folder is created if needed)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database.migrated(settings.db_url)


def runtime(settings: ServiceSettings) -> Runtime:
    """Everything one process holds: database, blobs, and (on first use) the engine and live index."""
    return Runtime(settings=settings, db=database(settings), blobs=BlobStore(settings.blob_dir))


def queue(rt: Runtime) -> Celery:
    """The Celery app for ``rt``'s broker with the analysis and webhook-delivery tasks registered."""
    celery = make_celery(rt.settings)
    bind_task(celery, rt)
    return celery


@contextmanager
def opened(settings: ServiceSettings) -> Iterator[Database]:
    """The migrated database for one command, disposed of afterwards."""
    db = database(settings)
    try:
        yield db
    finally:
        db.dispose()
