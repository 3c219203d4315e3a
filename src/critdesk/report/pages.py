"""The reports page, ``/reports``: charts with a table under each, a filter form (GET) and CSV
links, in one of three views by the viewer's reach.

* the desk (leads, admins, engineers): SLA compliance per package and per month, the time to
  start investigating and to resolution, open cases, root causes, redirects, bugs, load;
* an account manager: their organisations' SLA record, acceptable use and referrals;
* a customer admin: their own organisation's SLA record and cases, nothing else.

Customers (named contacts) are refused; reports are for their customer admin.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from critdesk.auth.models import User
from critdesk.auth.pages import PageUser
from critdesk.errors import Forbidden
from critdesk.report import charts, rules, service
from critdesk.report.api import ReportQuery
from critdesk.templating import STAFF_TIMEZONE, duration, format_time, label, render
from critdesk.web import DbSession, Now

router = APIRouter(include_in_schema=False)

# reach -> (page title, the sections: (report, chart variant))
VIEWS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "all": (
        "Desk performance",
        (
            ("sla", "package"),
            ("sla-monthly", "month"),
            ("time-to-investigate", "box"),
            ("time-to-resolution", "box"),
            ("open-cases", "state"),
            ("root-causes", "category"),
            ("redirects", "target"),
            ("bugs", "bug"),
            ("engineer-load", "owner"),
        ),
    ),
    "managed": (
        "Your organisations",
        (
            ("sla", "organisation"),
            ("sla-monthly", "month"),
            ("acceptable-use", "organisation"),
            ("referrals", "organisation"),
            ("redirects", "target"),
            ("time-to-investigate", "box"),
            ("open-cases", "state"),
        ),
    ),
    "own": (
        "SLA record",
        (
            ("sla-monthly", "month"),
            ("sla", "severity"),
            ("time-to-investigate", "box"),
            ("time-to-resolution", "box"),
            ("open-cases", "state"),
            ("root-causes", "category"),
        ),
    ),
}
COLUMN_LABELS = {
    "met_rate": "Met rate",
    "min_seconds": "Min",
    "p25_seconds": "25th pct.",
    "median_seconds": "Median",
    "p75_seconds": "75th pct.",
    "p90_seconds": "90th pct.",
    "max_seconds": "Max",
    "waiting_on": "Waits on",
    "oldest_since": "Oldest waiting since",
    "product_defect": "Product defects",
    "reported_critical": "Reported critical",
    "reported_not_critical": "Reported not critical",
    "redirected_reported_critical": "Of which reported critical",
    "share": "Share redirected",
    "awaiting_customer": "Awaiting customer",
    "open": "Open",
}
FILTER_KEYS = ("from", "to", "package", "organisation", "severity")
# Without a period in the address the page shows this many calendar months (this one and the
# ones before): a lead's dashboard over all of a million cases costs seconds, a few months
# well under one. ``?from=`` (given, empty) asks for all time, as the API's default is.
DEFAULT_MONTHS = 3


def column_label(column: str) -> str:
    return COLUMN_LABELS.get(column) or label(column)


def cell(column: str, value: Any, timezone: str) -> str:
    """A report value as the table under a chart shows it."""
    if value is None:
        return "—"
    if column.endswith("_seconds"):
        return duration(value)
    if column in ("met_rate", "share"):
        return f"{value * 100:.1f} %".replace(".0 %", " %")
    if isinstance(value, datetime):
        return format_time(value, timezone, "%d %b %Y %H:%M")
    if column in ("state", "waiting_on", "category", "target"):
        return label(value)
    if column == "engineer" and value is None:
        return "—"
    return str(value)


def is_number(column: str) -> bool:
    return column not in (
        "organisation", "package", "severity", "month", "state", "waiting_on", "category",
        "target", "bug", "title", "engineer", "name", "oldest_since",
    )  # fmt: skip


def moment_text(moment: datetime | None) -> str:
    """A period bound as the filters take it: a date at midnight UTC, an ISO time otherwise."""
    if moment is None:
        return ""
    if moment.time() == time(0, 0):
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def query_string(query: service.Query) -> str:
    """The filters in force, for the CSV and JSON links (the same figures as the page)."""
    given = {
        "from": moment_text(query.start),
        "to": moment_text(query.end),
        "package": query.package or "",
        "organisation": query.organisation or "",
        "severity": query.severity or "",
    }
    return urlencode({key: value for key, value in given.items() if value})


def with_default_period(request: Request, query: service.Query, now: datetime) -> service.Query:
    if "from" in request.query_params or "to" in request.query_params:
        return query
    return replace(query, start=rules.default_dashboard_start(now, DEFAULT_MONTHS))


def _section(
    report: service.Report, variant: str, query_string: str, timezone: str
) -> dict[str, Any]:
    name = report.spec.name
    suffix = f"?{query_string}" if query_string else ""
    columns = list(report.spec.columns)
    return {
        "name": name,
        "title": report.spec.title,
        "description": report.spec.description,
        "chart": charts.chart(report, variant, f"chart-{name}"),
        "headers": [(column_label(c), is_number(c)) for c in columns],
        "rows": [
            [(cell(c, row.get(c), timezone), is_number(c)) for c in columns] for row in report.rows
        ],
        "summary": report.summary,
        "csv": f"/api/v1/reports/{name}.csv{suffix}",
        "json": f"/api/v1/reports/{name}{suffix}",
    }


def _headline(report: service.Report) -> dict[str, Any]:
    met = sum(r["met"] for r in report.rows)
    breached = sum(r["breached"] for r in report.rows)
    running = sum(r["running"] for r in report.rows)
    rate = rules.met_rate(met, breached)
    return rules.sla_figures(met, breached, running) | {
        "met_rate_text": "—" if rate is None else cell("met_rate", rate, STAFF_TIMEZONE)
    }


def reports_context(
    *,
    db: Session,
    viewer: User,
    query: service.Query,
    now: datetime,
    timezone: str = STAFF_TIMEZONE,
) -> dict[str, Any]:
    """Everything the page shows, as plain values (and the charts' markup)."""
    if not rules.readable(viewer.role):
        raise Forbidden(
            "customer_admins_only", "reports are for your organisation's customer admins"
        )
    reach = rules.REACH[viewer.role]
    title, sections = VIEWS[reach]
    reports = service.build_many(
        db=db, viewer=viewer, names=[name for name, _variant in sections], query=query, now=now
    )
    scope = reports["sla"].scope
    if reach == "own" and viewer.organisation is not None:
        title = f"{viewer.organisation.name}: SLA record"
    context: dict[str, Any] = {
        "page_title": title,
        "reach": reach,
        "headline": _headline(reports["sla"]),
        "sections": [
            _section(reports[name], variant, query_string(query), timezone)
            for name, variant in sections
        ],
        "choices": service.filter_choices(db=db, scope=scope),
        "severities": rules.SEVERITIES,
        "all_time": query.start is None and query.end is None,
        "filters": {
            "from": query.start.date().isoformat() if query.start else "",
            "to": query.end.date().isoformat() if query.end else "",
            "package": query.package or "",
            "organisation": query.organisation or "",
            "severity": query.severity or "",
        },
        "referrals": [],
    }
    if reach == "managed":
        context["referrals"] = service.recent_referrals(db=db, scope=scope, query=query)
    return context


@router.get("/reports")
def reports_page(
    request: Request, db: DbSession, user: PageUser, now: Now, query: ReportQuery
) -> HTMLResponse:
    viewer = getattr(request.state, "viewer", None) or {}
    context = reports_context(
        db=db,
        viewer=user,
        query=with_default_period(request, query, now),
        now=now,
        timezone=viewer.get("timezone", STAFF_TIMEZONE),
    )
    return render(request, "report/index.html", context)
