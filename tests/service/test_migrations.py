"""The Alembic migrations build exactly the tables ``db/tables.py`` declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from civicshield.service.domain.tables import Base
from civicshield.service.infra.db.engine import make_engine, migrate


def _without_type_noise(diff: list[object]) -> list[object]:
    return list(diff)


def test_migrations_match_the_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], "write a migration: the tables and the migrations differ"
