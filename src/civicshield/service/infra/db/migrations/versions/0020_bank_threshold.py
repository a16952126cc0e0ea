"""banks.pdq_max_distance: a stricter PDQ match distance per bank (issue 13, part 6)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("banks") as batch:
        batch.add_column(sa.Column("pdq_max_distance", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("banks") as batch:
        batch.drop_column("pdq_max_distance")
