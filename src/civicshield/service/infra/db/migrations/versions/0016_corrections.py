"""corrections and retractions of published fact-checks (issue 13, part 4)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("retraction_reason", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "case_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rating_before", sa.String(length=20), nullable=False),
        sa.Column("rating_after", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_revisions_case_id", "case_revisions", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_revisions_case_id", table_name="case_revisions")
    op.drop_table("case_revisions")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("retraction_reason")
        batch.drop_column("retracted_at")
        batch.drop_column("modified_at")
