"""bank entry label, link and original name as long as the bank formats allow (2,000 characters)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_WIDENED = (("label", 300, False), ("link", 500, False), ("original_name", 300, True))


def upgrade() -> None:
    with op.batch_alter_table("bank_entries") as batch_op:
        for column, old, nullable in _WIDENED:
            batch_op.alter_column(
                column, existing_type=sa.String(old), type_=sa.String(2000), existing_nullable=nullable
            )


def downgrade() -> None:
    with op.batch_alter_table("bank_entries") as batch_op:
        for column, old, nullable in _WIDENED:
            batch_op.alter_column(
                column, existing_type=sa.String(2000), type_=sa.String(old), existing_nullable=nullable
            )
