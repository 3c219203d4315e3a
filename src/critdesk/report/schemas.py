"""Wire shapes of the reports: one envelope for every report, rows as the report names them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from critdesk.report.service import Report


class ReportOut(BaseModel):
    name: str
    title: str
    description: str
    # "all", "managed" (an account manager's organisations) or "own" (a customer admin's)
    scope: str
    generated_at: datetime
    period: dict[str, datetime | None]
    filters: dict[str, str | None]
    columns: list[str]
    rows: list[dict[str, Any]]
    summary: dict[str, Any] | None = None


class ReportIndexItem(BaseModel):
    name: str
    title: str
    description: str
    columns: list[str]
    url: str
    csv_url: str


def report_view(report: Report) -> dict[str, Any]:
    query = report.query
    return {
        "name": report.spec.name,
        "title": report.spec.title,
        "description": report.spec.description,
        "scope": report.scope.reach,
        "generated_at": report.generated_at,
        "period": {"from": query.start, "to": query.end},
        "filters": {
            "organisation": report.organisation,
            "package": report.package,
            "severity": query.severity,
        },
        "columns": list(report.spec.columns),
        "rows": report.rows,
        "summary": report.summary,
    }
