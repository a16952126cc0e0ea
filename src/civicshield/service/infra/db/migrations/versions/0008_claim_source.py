"""cases: who made the claim, when, and where it appeared (ClaimReview itemReviewed)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("claim_author", sa.String(length=300), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("claim_author_kind", sa.String(length=12), nullable=False, server_default="Person")
        )
        batch.add_column(sa.Column("claim_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("claim_url", sa.String(length=2000), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for name in ("claim_url", "claim_date", "claim_author_kind", "claim_author"):
            batch.drop_column(name)
