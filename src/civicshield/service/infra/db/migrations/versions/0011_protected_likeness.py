"""protected_entries.faces / voices: face and voice embeddings of protected people (issue 12)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("protected_entries") as batch:
        batch.add_column(sa.Column("faces", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("voices", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("protected_entries") as batch:
        batch.drop_column("voices")
        batch.drop_column("faces")
