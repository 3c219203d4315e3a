"""The reports page: charts with their titles and tables, filters, CSV links, the three views,
and what it costs."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.case.test_api import AM, BOB, CAROL, ENG1, LEAD
from tests.report.conftest import PERIOD

SVG = "{http://www.w3.org/2000/svg}"
DESK_SECTIONS = [
    "sla",
    "sla-monthly",
    "time-to-investigate",
    "time-to-resolution",
    "open-cases",
    "root-causes",
    "redirects",
    "bugs",
    "engineer-load",
]


def charts(html: str) -> dict[str, ET.Element]:
    found = {}
    for markup in re.findall(r"<svg .*?</svg>", html, flags=re.S):
        root = ET.fromstring(markup)
        found[root.get("id", "")] = root
    return found


def section(html: str, name: str) -> str:
    start = html.index(f'<section class="card report" id="{name}"')
    return html[start : html.index("</section>", start)]


def test_the_lead_dashboard_shows_every_chart_with_its_table(client, dataset, browse) -> None:
    browse(LEAD)
    page = client.get(f"/reports?{PERIOD}&severity=")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/reports" aria-current="page">Reports</a>' in html
    found = charts(html)
    assert list(found) == [f"chart-{name}" for name in DESK_SECTIONS]
    for name, root in found.items():
        assert root.get("role") == "img"
        title = root.find(f"{SVG}title")
        desc = root.find(f"{SVG}desc")
        assert title is not None and title.text and desc is not None and desc.text, name
        assert root.get("aria-labelledby") == f"{name}-title {name}-desc"
    sla = found["chart-sla"]
    assert sla.find(f"{SVG}title").text == "SLA compliance per package"  # type: ignore[union-attr]
    # Business: C1, C3 met; C2, C6 breached; C5 running
    assert "Business: met 2, breached 2, running 1." in (sla.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]
    labels = ["".join(t.itertext()) for t in sla.iter(f"{SVG}text")]
    for label in ("Business", "Premium", "Enterprise", "Package", "Met", "Breached", "Running"):
        assert label in labels
    box = found["chart-time-to-investigate"]
    assert "median 32 min · p90 2 h 19 min" in [
        "".join(t.itertext()) for t in box.iter(f"{SVG}text")
    ]
    for name in DESK_SECTIONS:
        part = section(html, name)
        assert "<details" in part and "<table" in part, name
        assert f'href="/api/v1/reports/{name}.csv?from=2026-08-01&amp;to=2026-11-01"' in part
    # The headline: 12 clocks, 7 met, 4 breached, 1 running; 7 / 11 decided = 63.6 %
    assert re.search(r'data-figure="cases">12<', html)
    assert re.search(r'data-figure="met_rate">63.6 %<', html)
    # The table under the time-to-investigate chart, in people's words
    assert "32 min" in section(html, "time-to-investigate")
    assert "2 h 19 min" in section(html, "time-to-investigate")


def test_the_filters_are_kept_in_the_form_and_the_links(client, dataset, browse) -> None:
    browse(LEAD)
    html = client.get(f"/reports?{PERIOD}&package=premium&severity=S2").text
    assert 'value="2026-08-01"' in html and 'value="2026-11-01"' in html
    assert '<option value="premium" selected>Premium</option>' in html
    assert '<option value="S2" selected>S2</option>' in html
    assert "/api/v1/reports/sla.csv?from=2026-08-01&amp;to=2026-11-01&amp;package=premium" in html
    sla = charts(html)["chart-sla"]
    assert (sla.find(f"{SVG}desc").text or "") == "Premium: met 2, breached 0, running 0."  # type: ignore[union-attr]


def test_a_bad_filter_on_the_page_is_explained(client, dataset, browse) -> None:
    browse(LEAD)
    page = client.get("/reports?from=next-tuesday")
    assert page.status_code == 422
    assert "from must be a date" in page.text.lower()


def test_the_account_managers_view_has_acceptable_use_and_referrals(
    client, dataset, browse
) -> None:
    browse(AM)
    html = client.get(f"/reports?{PERIOD}").text
    assert "<h1>Your organisations</h1>" in html
    found = charts(html)
    assert {"chart-acceptable-use", "chart-referrals", "chart-sla"} <= set(found)
    use = found["chart-acceptable-use"].find(f"{SVG}desc").text or ""  # type: ignore[union-attr]
    assert "Northwind Insurance: redirected 2, kept by the desk 3." in use
    assert "engineer-load" not in found
    referrals = html[html.index('id="recent-referrals"') :]
    assert dataset.refs["F3"] in referrals and "Fabrikam Retail" in referrals


def test_the_customer_admins_view_is_their_sla_record(client, dataset, browse) -> None:
    browse(CAROL)
    html = client.get(f"/reports?{PERIOD}").text
    found = charts(html)
    assert list(found) == [
        "chart-sla-monthly",
        "chart-sla",
        "chart-time-to-investigate",
        "chart-time-to-resolution",
        "chart-open-cases",
        "chart-root-causes",
    ]
    assert 'id="filter-organisation"' not in html
    waiting = found["chart-open-cases"]
    assert "Waiting on you" in ["".join(t.itertext()) for t in waiting.iter(f"{SVG}text")]
    assert '<a href="/reports"' in html  # their nav link


def test_the_nav_link_is_for_leads_account_managers_and_customer_admins(
    client, demo, browse
) -> None:
    for email, shown in ((LEAD, True), (AM, True), (CAROL, True), (BOB, False), (ENG1, False)):
        browse(email)
        html = client.get("/cases").text
        assert ('href="/reports"' in html) is shown, email


@contextmanager
def counting_queries(database: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


def test_the_dashboard_costs_the_same_queries_however_many_cases(
    client, database, browse, login
) -> None:
    from tests.report.conftest import build

    browse(LEAD)
    with counting_queries(database) as few:
        assert client.get("/reports").status_code == 200
    with database.session() as session:
        build(session)
    with counting_queries(database) as many:
        assert client.get("/reports").status_code == 200
    assert len(many) == len(few)
    # the session, one aggregate per report (two for redirects), a name lookup for the reports
    # that name organisations, packages, engineers or bugs, and the filter choices
    assert len(many) <= 30, many


def test_without_a_period_the_page_shows_the_last_three_months(
    client, dataset, browse, clock
) -> None:
    clock.set(clock.now.replace(month=11, day=25))  # September, October and November
    browse(LEAD)
    html = client.get("/reports").text
    assert 'id="filter-from" name="from" value="2026-09-01"' in html
    assert "/api/v1/reports/sla.csv?from=2026-09-01" in html
    months = charts(html)["chart-sla-monthly"].find(f"{SVG}desc").text or ""  # type: ignore[union-attr]
    assert "2026-09:" in months and "2026-08" not in months
    everything = client.get("/reports?from=").text
    months = charts(everything)["chart-sla-monthly"].find(f"{SVG}desc").text or ""  # type: ignore[union-attr]
    assert "2026-08:" in months
    assert 'href="/api/v1/reports/sla.csv"' in everything
