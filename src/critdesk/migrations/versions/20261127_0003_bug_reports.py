"""bug reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 00:01:02.254566
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bug_fix_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=2), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bug_fix_policies")),
        sa.UniqueConstraint("severity", name=op.f("uq_bug_fix_policies_severity")),
    )
    op.create_table(
        "bugs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=100), nullable=False),
        sa.Column("component", sa.String(length=100), nullable=True),
        sa.Column("affected_versions", sa.JSON(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("steps_to_reproduce", sa.Text(), nullable=True),
        sa.Column("expected", sa.Text(), nullable=True),
        sa.Column("actual", sa.Text(), nullable=True),
        sa.Column("environment", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(length=2), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("fix_version", sa.String(length=40), nullable=True),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("workaround", sa.Text(), nullable=True),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("external_refs", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fix_target_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_bugs_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"], ["bugs.id"], name=op.f("fk_bugs_duplicate_of_id_bugs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bugs")),
    )
    with op.batch_alter_table("bugs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bugs_state"), ["state"], unique=False)
        batch_op.create_index("ix_bugs_updated", ["updated_at", "id"], unique=False)

    op.create_table(
        "bug_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bug_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bug_id"], ["bugs.id"], name=op.f("fk_bug_cases_bug_id_bugs")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_bug_cases_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["linked_by_id"], ["users.id"], name=op.f("fk_bug_cases_linked_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bug_cases")),
        sa.UniqueConstraint("bug_id", "case_id", name=op.f("uq_bug_cases_bug_id")),
    )
    with op.batch_alter_table("bug_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bug_cases_bug_id"), ["bug_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bug_cases_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bug_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bug_cases_case_id"))
        batch_op.drop_index(batch_op.f("ix_bug_cases_bug_id"))

    op.drop_table("bug_cases")
    with op.batch_alter_table("bugs", schema=None) as batch_op:
        batch_op.drop_index("ix_bugs_updated")
        batch_op.drop_index(batch_op.f("ix_bugs_state"))

    op.drop_table("bugs")
    op.drop_table("bug_fix_policies")
