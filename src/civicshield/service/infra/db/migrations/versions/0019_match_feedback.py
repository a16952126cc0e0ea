"""match feedback and entry standing; quarantine by false-positive reports (issue 13, part 6)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_entries") as batch:
        batch.add_column(sa.Column("confirmations", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("false_positives", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "match_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["bank_entries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_id", "org_id"),
    )
    op.create_index("ix_match_feedback_entry_id", "match_feedback", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_match_feedback_entry_id", table_name="match_feedback")
    op.drop_table("match_feedback")
    with op.batch_alter_table("bank_entries") as batch:
        batch.drop_column("false_positives")
        batch.drop_column("confirmations")
