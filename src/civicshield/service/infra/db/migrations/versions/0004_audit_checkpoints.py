"""signed checkpoints of each organization's audit chain head

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "seq"),
    )
    with op.batch_alter_table("audit_checkpoints") as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checkpoints_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_checkpoints") as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checkpoints_org_id"))
    op.drop_table("audit_checkpoints")
