"""End to end in Debian's Chromium: a customer reports an outage, an engineer picks it up."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "demo-password-123"


def screenshot(page: Any, name: str) -> None:
    """Only on request (CRITDESK_SCREENSHOTS=1): ordinary runs leave the repository alone."""
    if os.environ.get("CRITDESK_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def log_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_reported_outage_tops_the_queue_and_an_engineer_picks_it_up(live_server, browser):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    log_in(page, live_server, "alice@northwind.example")
    expect(page).to_have_url(f"{live_server}/cases")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Report an issue").click()
    page.locator("label.env-choice", has_text="nw-prod").click()
    page.get_by_label("Title").fill("Claims API answers HTTP 500 to every request")
    page.get_by_label("What happens?").fill(
        "Since 14:05 every call to the claims API fails with HTTP 500; the portal shows "
        "'Something went wrong'. Nothing was deployed today on our side."
    )
    page.get_by_label("The application is unavailable").check()
    page.get_by_label("All users", exact=True).check()
    page.get_by_label("Yes, they are blocked").check()

    preview = page.locator("#preview")
    expect(preview.locator("[data-qualification]")).to_have_attribute(
        "data-qualification", "critical"
    )
    expect(preview.locator("[data-severity]")).to_have_attribute("data-severity", "S1")
    expect(preview).to_contain_text("An engineer starts investigating")
    expect(preview).to_contain_text("(in 30 min)")
    screenshot(page, "report.png")

    page.get_by_role("button", name="Report issue").click()
    expect(page).to_have_url(re.compile(r"/cases/PCH-\d{6}$"))
    ref = page.url.rsplit("/", 1)[1]
    expect(page.locator(".case-ref")).to_have_text(ref)
    expect(page.locator(".flash-success[role=status]")).to_contain_text(ref)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))

    log_in(page, live_server, "eng1@vendor.example")
    expect(page).to_have_url(f"{live_server}/queue")
    top = page.locator("#queue-rows tr").first
    expect(top).to_have_attribute("data-ref", ref)
    countdown = top.locator("[data-countdown]")
    expect(countdown).to_have_text(re.compile(r"^(29m \d\ds|30m 00s)$"))
    ticked_from = countdown.inner_text()
    expect(countdown).not_to_have_text(ticked_from, timeout=3000)
    screenshot(page, "queue.png")

    top.get_by_role("link", name=ref).click()
    expect(page.locator("#sla-box")).to_contain_text("Start investigating")
    page.get_by_role("button", name="Start investigation").click()
    expect(page.locator(".flash-success[role=status]")).to_contain_text("Investigation started")
    expect(page.locator("#sla-box [data-sla-status]")).to_have_text("Met")
    expect(page.locator(".case-badges")).to_contain_text("Investigating")
    assert problems == []
    context.close()
