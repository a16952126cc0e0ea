from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from civicshield.service.domain.tables import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is None:
        from civicshield.service.infra.db.engine import make_engine

        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("no connection or sqlalchemy.url for migrations")
        with make_engine(url).connect() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
