"""articles

Articles: anonymised write-ups, reviews, publication to the knowledge base and forum.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("symptoms", sa.Text(), nullable=False),
        sa.Column("affected_versions", sa.JSON(), nullable=False),
        sa.Column("root_cause_category", sa.String(length=30), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("bug_id", sa.Integer(), nullable=True),
        sa.Column("redact_extra", sa.JSON(), nullable=False),
        sa.Column("redact_allow", sa.JSON(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("last_edited_by_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_title", sa.Text(), nullable=True),
        sa.Column("published_sections", sa.JSON(), nullable=True),
        sa.Column("published_body", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("forum_topic_id", sa.Integer(), nullable=True),
        sa.Column("forum_url", sa.String(length=500), nullable=True),
        sa.Column("forum_posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("forum_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_articles_author_id_users")
        ),
        sa.ForeignKeyConstraint(["bug_id"], ["bugs.id"], name=op.f("fk_articles_bug_id_bugs")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_articles_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["last_edited_by_id"],
            ["users.id"],
            name=op.f("fk_articles_last_edited_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_articles_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"], ["users.id"], name=op.f("fk_articles_published_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_articles_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
    )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_articles_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_articles_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index("ix_articles_state_id", ["state", "id"], unique=False)
        batch_op.create_index("ix_articles_updated", ["updated_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index("ix_articles_updated")
        batch_op.drop_index("ix_articles_state_id")
        batch_op.drop_index(batch_op.f("ix_articles_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_articles_case_id"))
    op.drop_table("articles")
