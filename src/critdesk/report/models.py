"""The index the report queries read by. It belongs to the ``cases`` table, but is declared here,
beside the queries that need it (critdesk.models imports this module, so Alembic sees it)."""

from __future__ import annotations

from sqlalchemy import Index

from critdesk.case.models import Case

# Every report selects cases by the period they were reported in and aggregates a few of their
# columns. On PostgreSQL the index carries those columns (INCLUDE), so a month of a table of a
# million cases is read from the index alone (an index-only scan), never from the table.
REPORT_COLUMNS = (
    "organisation_id",
    "package_id",
    "severity",
    "state",
    "sla_met_at",
    "sla_due_at",
    "sla_business_seconds_taken",
)
CASES_BY_PERIOD = Index(
    "ix_cases_report_period",
    Case.__table__.c.reported_at,
    postgresql_include=list(REPORT_COLUMNS),
)
