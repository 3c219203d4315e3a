"""log analyses

One row per log (or archive) attachment: the background analysis's state, lease, progress
and result (ranked signatures and the known bugs they match).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 00:34:30.045104
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("progress_bytes", sa.BigInteger(), nullable=False),
        sa.Column("total_bytes", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_log_analyses_attachment_id_attachments"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_log_analyses_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_analyses")),
        sa.UniqueConstraint("attachment_id", name=op.f("uq_log_analyses_attachment_id")),
    )
    with op.batch_alter_table("log_analyses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_log_analyses_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_log_analyses_state_lease", ["state", "lease_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("log_analyses", schema=None) as batch_op:
        batch_op.drop_index("ix_log_analyses_state_lease")
        batch_op.drop_index(batch_op.f("ix_log_analyses_case_id"))

    op.drop_table("log_analyses")
