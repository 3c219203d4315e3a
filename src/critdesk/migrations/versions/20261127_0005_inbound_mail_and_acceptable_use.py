"""inbound mail and acceptable use

Inbound e-mail's record of every message handed over (its unique key makes a redelivery a
no-op) and the one-refusal-a-day guard; the Acceptable Use rate-limit counters shared by
every API process.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 00:18:52.220276
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=254), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_refusals")),
        sa.UniqueConstraint("sender", "day", name=op.f("uq_mail_refusals_sender")),
    )
    op.create_table(
        "rate_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_rate_events_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_rate_events_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_events")),
    )
    with op.batch_alter_table("rate_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rate_events_org", ["action", "organisation_id", "at"], unique=False
        )
        batch_op.create_index("ix_rate_events_user", ["action", "user_id", "at"], unique=False)

    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.String(length=500), nullable=True),
        sa.Column("sender", sa.String(length=254), nullable=True),
        sa.Column("envelope_sender", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_inbound_messages_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_inbound_messages_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_inbound_messages_dedup_key")),
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_messages_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inbound_messages_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inbound_messages_sender"), ["sender"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_messages_sender"))
        batch_op.drop_index(batch_op.f("ix_inbound_messages_received_at"))
        batch_op.drop_index(batch_op.f("ix_inbound_messages_case_id"))
    op.drop_table("inbound_messages")
    with op.batch_alter_table("rate_events", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_events_user")
        batch_op.drop_index("ix_rate_events_org")
    op.drop_table("rate_events")
    op.drop_table("mail_refusals")
