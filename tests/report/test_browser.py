"""End to end in Debian's Chromium: the lead opens the reports dashboard and sees its charts,
with their titles, axis and value labels, and the table under a chart."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import browser, live_server  # noqa: F401  (the shared fixtures)
from tests.browser.test_report_to_queue import log_in, screenshot


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_the_lead_opens_the_dashboard_and_reads_its_charts(live_server, browser) -> None:  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    log_in(page, live_server, "lead@vendor.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page).to_have_url(f"{live_server}/reports")
    expect(page.get_by_role("heading", level=1)).to_have_text("Desk performance")

    sla = page.get_by_role("img", name="SLA compliance per package")
    expect(sla).to_be_visible()
    expect(sla.locator("text.category-label", has_text="Enterprise")).to_be_visible()
    expect(sla.locator("text.axis-label", has_text="Package")).to_be_visible()
    expect(sla.locator("text.axis-label", has_text="Start-investigating clocks")).to_be_visible()
    enterprise = sla.locator("g.bar", has=page.locator("text", has_text="Enterprise"))
    # The demo's Enterprise clocks, whatever the time of day (24x7): the resolved certificate
    # case met, the outage picked up late, the UAT export still within its 8 hours.
    expect(enterprise.locator("text.total")).to_have_text("3")
    description = sla.locator("desc").text_content() or ""
    assert "Enterprise: met 1, breached 1, running 1." in description

    for title in (
        "SLA compliance per month",
        "Business time to start investigating, per severity",
        "Time from report to resolution, per severity",
        "Cases waiting, by state and by whom they wait on",
        "Root-cause categories",
        "Redirects by target, and how they were reported",
        "Bugs by number of linked cases",
        "Engineer load: open cases per owner",
    ):
        chart = page.get_by_role("img", name=title)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 600 and box["height"] > 60, title

    box = page.get_by_role("img", name="Business time to start investigating, per severity")
    # Depending on the time of day a business-hours severity may also take about an hour.
    expect(box.locator("text.value-label", has_text="median 1 h").first).to_be_visible()

    # The table under a chart opens on a click and holds the same figures.
    table_section = page.locator("section#sla")
    table = table_section.locator("details table")
    expect(table).to_be_hidden()
    table_section.get_by_text("Table of the figures").click()
    expect(table).to_be_visible()
    expect(table.locator("tbody tr", has_text="Northwind Insurance").first).to_contain_text("S1")

    # Filters are a plain GET form.
    page.get_by_role("combobox", name="Severity").select_option("S1")
    page.get_by_role("button", name="Apply").click()
    # The form holds the default period (this month and the two before) as it submits.
    expect(page).to_have_url(
        re.compile(r"/reports\?from=\d{4}-\d{2}-01&to=&package=&organisation=&severity=S1$")
    )
    expect(page.get_by_role("img", name="SLA compliance per package")).to_be_visible()
    screenshot(page, "reports.png")
    assert problems == []
    context.close()
