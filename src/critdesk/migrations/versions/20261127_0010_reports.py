"""reports

Reports: the index the SLA and dashboard queries read by (cases by the period reported,
carrying the columns they aggregate on PostgreSQL).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 02:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_report_period",
        "cases",
        ["reported_at"],
        postgresql_include=[
            "organisation_id",
            "package_id",
            "severity",
            "state",
            "sla_met_at",
            "sla_due_at",
            "sla_business_seconds_taken",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_cases_report_period", table_name="cases")
