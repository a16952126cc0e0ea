"""protected_entries.pdq: logos and official visuals protected by their PDQ hash (issue 12)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("protected_entries") as batch:
        batch.add_column(sa.Column("pdq", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("protected_entries") as batch:
        batch.drop_column("pdq")
