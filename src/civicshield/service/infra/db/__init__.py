"""Database layer: tables, sessions, migrations (Alembic). One write path per aggregate lives in ``store``."""
