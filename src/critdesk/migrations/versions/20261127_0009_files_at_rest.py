"""files at rest

Files at rest: why and when an attachment's file was removed.

- ``attachments.deleted_reason``: ``retention`` (its case closed long enough ago) or
  ``erasure`` (its uploader's personal data was erased); the row stays for the timeline.
- ``attachments.purged_at``: when the stored bytes were deleted, after the removal committed;
  a partial index finds the removed rows whose bytes remain.

The encryption key of each file is not recorded here: the file's own header names it, and
``critdesk storage rotate-key``/``verify`` read it from there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_UNPURGED = "deleted_at IS NOT NULL AND purged_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_reason", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_attachments_unpurged",
        "attachments",
        ["id"],
        unique=False,
        postgresql_where=sa.text(_UNPURGED),
        sqlite_where=sa.text(_UNPURGED),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_attachments_unpurged",
        table_name="attachments",
        postgresql_where=sa.text(_UNPURGED),
        sqlite_where=sa.text(_UNPURGED),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
        batch_op.drop_column("deleted_reason")
