"""Report routes: every report as JSON (``/api/v1/reports/{name}``) and as CSV (``….csv``),
the same rows either way, scoped to the caller's role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from critdesk.auth.deps import CurrentUser
from critdesk.errors import Forbidden, Invalid
from critdesk.report import rules, schemas, service
from critdesk.web import DbSession, Now

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


def report_query(
    period_from: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    period_to: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    package: Annotated[str | None, Query(max_length=200)] = None,
    organisation: Annotated[str | None, Query(max_length=200)] = None,
    severity: Annotated[str | None, Query(max_length=10)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = service.BUGS_DEFAULT_LIMIT,
) -> service.Query:
    """The filters: ``from`` (inclusive) and ``to`` (exclusive) are dates (midnight UTC) or ISO
    8601 times, over when cases were reported; ``package`` a code or name; ``organisation``
    an id or name; ``severity`` S1–S4; ``limit`` the number of bugs in the bugs report."""
    for name, value in (("package", package), ("organisation", organisation)):
        # No text of ours holds a control character; PostgreSQL refuses NUL outright.
        if value is not None and any(ord(c) < 32 for c in value):
            raise Invalid("invalid_filter", f"{name} holds a control character")
    try:
        start = rules.parse_moment(period_from, "from")
        end = rules.parse_moment(period_to, "to")
        rules.check_period(start, end)
    except rules.BadPeriod as error:
        raise Invalid("invalid_period", str(error)) from error
    return service.Query(
        start=start,
        end=end,
        package=package or None,
        organisation=organisation or None,
        severity=(severity or "").strip().upper() or None,
        limit=limit,
    )


ReportQuery = Annotated[service.Query, Depends(report_query)]


@router.get("", response_model=list[schemas.ReportIndexItem])
def list_reports(user: CurrentUser) -> list[dict[str, Any]]:
    """The reports the caller may read."""
    readable = rules.readable(user.role)
    if not readable:
        raise Forbidden(
            "customer_admins_only", "reports are for your organisation's customer admins"
        )
    return [
        {
            "name": spec.name,
            "title": spec.title,
            "description": spec.description,
            "columns": list(spec.columns),
            "url": f"{router.prefix}/{spec.name}",
            "csv_url": f"{router.prefix}/{spec.name}.csv",
        }
        for spec in readable
    ]


@router.get(
    "/{name}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def report_csv(
    name: str, query: ReportQuery, db: DbSession, user: CurrentUser, now: Now
) -> Response:
    """The report's rows as CSV (UTF-8, a header row, the JSON's columns in order)."""
    report = service.build(db=db, viewer=user, name=name, query=query, now=now)
    return Response(
        rules.to_csv(report.spec.columns, report.rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="critdesk-{report.spec.name}.csv"'},
    )


@router.get("/{name}", response_model=schemas.ReportOut)
def report_json(
    name: str, query: ReportQuery, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    """The report's figures: ``sla``, ``sla-monthly``, ``time-to-investigate``,
    ``time-to-resolution``, ``open-cases``, ``root-causes``, ``redirects``, ``acceptable-use``,
    ``referrals``, ``bugs``, ``engineer-load`` (``GET /api/v1/reports`` lists the caller's)."""
    report = service.build(db=db, viewer=user, name=name, query=query, now=now)
    return schemas.report_view(report)
