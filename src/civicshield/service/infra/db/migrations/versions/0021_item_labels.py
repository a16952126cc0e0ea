"""reviewers' origin labels on items and organizations' consent to training (issue 15, part 3)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id"),
    )
    op.create_index("ix_item_labels_org_id", "item_labels", ["org_id"])
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("training_consent_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("training_consent_by", sa.String(length=200), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("training_consent_by")
        batch.drop_column("training_consent_at")
    op.drop_index("ix_item_labels_org_id", table_name="item_labels")
    op.drop_table("item_labels")
