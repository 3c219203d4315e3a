"""notifications fanned out after the commit

A notifiable timeline event carries ``notify`` (the case as it stood: severity, state, owner,
and the request's id) until the outbox drain has written its recipients' rows; a partial
index finds the few events still waiting. Events already in the database were fanned out
when they were written.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notify", sa.JSON(none_as_null=True), nullable=True))
    op.create_index(
        "ix_case_events_notify_pending",
        "case_events",
        ["id"],
        postgresql_where=sa.text("notify IS NOT NULL"),
        sqlite_where=sa.text("notify IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_case_events_notify_pending", table_name="case_events")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_column("notify")
