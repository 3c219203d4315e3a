"""Which chart shows which report: the reports' rows turned into svg.py's bars and boxes.

Each chart sums the report's rows along one dimension (SLA clocks per package, per month, per
organisation or per severity, …); the table under it on the page holds every row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from markupsafe import Markup

from critdesk.report import svg
from critdesk.report.service import Report
from critdesk.templating import label

SLA_SERIES = (
    svg.Series("Met", svg.MET),
    svg.Series("Breached", svg.BREACHED),
    svg.Series("Running", svg.RUNNING),
)
WAITING_SERIES = (
    svg.Series("Waiting on us", "#2450c8"),
    svg.Series("Waiting on the customer", "#12706b"),
)
# As a customer admin reads it.
WAITING_SERIES_OWN = (
    svg.Series("Waiting on the vendor", "#2450c8"),
    svg.Series("Waiting on you", "#12706b"),
)
CRITICAL_SERIES = (
    svg.Series("Reported as critical", svg.BREACHED),
    svg.Series("Reported as not critical", "#5d6878"),
)
LOAD_SERIES = (
    svg.Series("New", "#dd5a12"),
    svg.Series("Investigating", "#2450c8"),
    svg.Series("Awaiting customer", "#12706b"),
)
USE_SERIES = (svg.Series("Redirected", svg.BREACHED), svg.Series("Kept by the desk", "#2450c8"))


def _sum_by(rows: Sequence[dict[str, Any]], key: str, fields: Sequence[str]) -> list[svg.Bar]:
    totals: dict[str, list[float]] = {}
    for row in rows:
        values = totals.setdefault(str(row[key]), [0.0] * len(fields))
        for index, name in enumerate(fields):
            values[index] += float(row.get(name) or 0)
    return [svg.Bar(name, tuple(values)) for name, values in totals.items()]


def _sla(by: str, axis: str) -> Callable[[Report, str], Markup]:
    def chart(report: Report, chart_id: str) -> Markup:
        return svg.bar_chart(
            chart_id=chart_id,
            title=f"SLA compliance per {axis.lower()}",
            bars=_sum_by(report.rows, by, ("met", "breached", "running")),
            series=SLA_SERIES,
            value_axis="Start-investigating clocks (cases)",
            category_axis=axis,
        )

    return chart


def _distribution(title: str, axis: str) -> Callable[[Report, str], Markup]:
    def chart(report: Report, chart_id: str) -> Markup:
        boxes = [
            svg.Box(
                label=row["severity"],
                count=row["cases"],
                minimum=row["min_seconds"],
                p25=row["p25_seconds"],
                median=row["median_seconds"],
                p75=row["p75_seconds"],
                p90=row["p90_seconds"],
                maximum=row["max_seconds"],
            )
            for row in report.rows
        ]
        return svg.box_chart(
            chart_id=chart_id, title=title, boxes=boxes, value_axis=axis, category_axis="Severity"
        )

    return chart


def _open_cases(report: Report, chart_id: str) -> Markup:
    bars = [
        svg.Bar(
            label(row["state"]),
            (
                float(row["cases"]) if row["waiting_on"] == "vendor" else 0.0,
                float(row["cases"]) if row["waiting_on"] == "customer" else 0.0,
            ),
        )
        for row in report.rows
    ]
    return svg.bar_chart(
        chart_id=chart_id,
        title="Cases waiting, by state and by whom they wait on",
        bars=bars,
        series=WAITING_SERIES_OWN if report.scope.reach == "own" else WAITING_SERIES,
        value_axis="Cases",
        category_axis="State",
    )


def _root_causes(report: Report, chart_id: str) -> Markup:
    return svg.bar_chart(
        chart_id=chart_id,
        title="Root-cause categories",
        bars=[svg.Bar(label(r["category"]), (float(r["cases"]),)) for r in report.rows],
        series=(svg.Series("Cases", "#2450c8"),),
        value_axis="Cases",
        category_axis="Category",
        empty_message="No root causes recorded in this period.",
    )


def _redirects(report: Report, chart_id: str) -> Markup:
    bars = [
        svg.Bar(
            label(r["target"]), (float(r["reported_critical"]), float(r["reported_not_critical"]))
        )
        for r in report.rows
    ]
    return svg.bar_chart(
        chart_id=chart_id,
        title="Redirects by target, and how they were reported",
        bars=bars,
        series=CRITICAL_SERIES,
        value_axis="Cases redirected",
        category_axis="Redirected to",
        empty_message="No cases redirected in this period.",
    )


def _acceptable_use(report: Report, chart_id: str) -> Markup:
    bars = [
        svg.Bar(r["organisation"], (float(r["redirected"]), float(r["reported"] - r["redirected"])))
        for r in report.rows
    ]
    return svg.bar_chart(
        chart_id=chart_id,
        title="Cases reported per organisation, and those redirected",
        bars=bars,
        series=USE_SERIES,
        value_axis="Cases reported",
        category_axis="Organisation",
    )


def _referrals(report: Report, chart_id: str) -> Markup:
    return svg.bar_chart(
        chart_id=chart_id,
        title="Referrals to the account manager per organisation",
        bars=_sum_by(report.rows, "organisation", ("cases",)),
        series=(svg.Series("Referrals", "#6a32b0"),),
        value_axis="Cases referred",
        category_axis="Organisation",
        empty_message="No referrals in this period.",
    )


def _bugs(report: Report, chart_id: str) -> Markup:
    return svg.bar_chart(
        chart_id=chart_id,
        title="Bugs by number of linked cases",
        bars=[svg.Bar(f"{r['bug']} {r['title']}", (float(r["cases"]),)) for r in report.rows],
        series=(svg.Series("Linked cases", "#6a32b0"),),
        value_axis="Linked cases",
        category_axis="Bug",
        empty_message="No cases linked to bugs in this period.",
    )


def _engineer_load(report: Report, chart_id: str) -> Markup:
    bars = [
        svg.Bar(
            r["name"],
            (float(r["new"]), float(r["investigating"]), float(r["awaiting_customer"])),
        )
        for r in report.rows
    ]
    return svg.bar_chart(
        chart_id=chart_id,
        title="Engineer load: open cases per owner",
        bars=bars,
        series=LOAD_SERIES,
        value_axis="Open cases",
        category_axis="Owner",
        empty_message="No open cases.",
    )


# (report name, chart variant) -> the chart
CHARTS: dict[tuple[str, str], Callable[[Report, str], Markup]] = {
    ("sla", "package"): _sla("package", "Package"),
    ("sla", "organisation"): _sla("organisation", "Organisation"),
    ("sla", "severity"): _sla("severity", "Severity"),
    ("sla-monthly", "month"): _sla("month", "Month"),
    ("time-to-investigate", "box"): _distribution(
        "Business time to start investigating, per severity", "Business time"
    ),
    ("time-to-resolution", "box"): _distribution(
        "Time from report to resolution, per severity", "Elapsed time"
    ),
    ("open-cases", "state"): _open_cases,
    ("root-causes", "category"): _root_causes,
    ("redirects", "target"): _redirects,
    ("acceptable-use", "organisation"): _acceptable_use,
    ("referrals", "organisation"): _referrals,
    ("bugs", "bug"): _bugs,
    ("engineer-load", "owner"): _engineer_load,
}


def chart(report: Report, variant: str, chart_id: str) -> Markup:
    return CHARTS[(report.spec.name, variant)](report, chart_id)
