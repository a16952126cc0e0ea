"""Engine and session factory, and schema migration to head (Alembic) at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, readonly: bool = False) -> Engine:
    """An engine on ``url``. On SQLite every transaction of a writing engine starts with ``BEGIN IMMEDIATE``.

    Why: in WAL mode a transaction that read before another one committed can never write afterwards
    (``SQLITE_BUSY_SNAPSHOT``, "database is locked" at once, whatever the busy timeout); the red-team load
    test saw exactly that. Taking the write lock at ``BEGIN`` makes concurrent writers wait their turn (up
    to the busy timeout) instead of failing. Readers (``readonly``) keep plain deferred transactions and
    never wait for writers."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # pysqlite's own BEGIN handling off: we emit BEGIN below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    # Sized for the request threads (anyio's default limiter: 40) that may each hold a connection, plus the
    # reaper and delivery threads: the red-team load test hit "QueuePool limit ... timed out" at 5 + 10.
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=30, pool_timeout=30)


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Database:
    """Sessions on one database: ``session()`` for work that may write, ``reading()`` for work that only reads
    (the same on PostgreSQL; on SQLite a reader does not queue behind writers)."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = make_engine(url, readonly=True) if url.startswith("sqlite") else self.engine
        self._readers = sessionmaker(self._reader, expire_on_commit=False)

    @classmethod
    def migrated(cls, url: str) -> Database:
        """The database at ``url`` brought to the current schema (disposed of again if that fails)."""
        db = cls(url)
        try:
            migrate(db.engine)
        except BaseException:
            db.dispose()
            raise
        return db

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._readers() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self._reader is not self.engine:
            self._reader.dispose()
