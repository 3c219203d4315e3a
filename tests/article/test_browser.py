"""End to end in Debian's Chromium: an engineer drafts an article from the demo's resolved case,
sees the redaction preview highlight a customer's name and address, a second engineer
approves and publishes it, and a customer of another organisation finds it in /kb."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import browser, live_server  # noqa: F401 - the browser fixtures
from tests.browser.test_report_to_queue import log_in
from tests.browser.test_troubleshooting import log_out, new_page

RESOLVED = "PCH-000005"  # the demo's resolved certificate-rotation case (Northwind)


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_draft_preview_review_publish_and_a_customer_finds_it(live_server, browser) -> None:  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems = new_page(browser)

    # The author drafts it from the case and writes the customer's name into the symptoms.
    log_in(page, live_server, "eng1@vendor.example")
    page.goto(f"{live_server}/articles")
    page.get_by_label("Write up case").fill(RESOLVED)
    page.get_by_role("button", name="Draft an article").click()
    expect(page.locator(".flash-success[role=status]")).to_contain_text("drafted from")
    page.get_by_label("Symptoms").fill(
        "Northwind Insurance saw every document upload fail with a TLS handshake error after "
        "the certificate rotation; alice@northwind.example reported it."
    )
    page.get_by_role("button", name="Save").click()
    preview = page.locator("#preview")
    organisation = preview.locator("mark[data-category=organisation]").first
    expect(organisation).to_have_attribute("title", re.compile("organisation"))
    expect(preview.locator("mark[data-category=email]")).to_have_count(1)
    expect(preview).not_to_contain_text("Northwind Insurance")
    expect(page.locator("#replacements")).to_contain_text("always redacted")
    page.get_by_label("Also redact").fill("document upload")
    page.get_by_role("button", name="Redact it").click()
    expect(page.locator("#preview")).not_to_contain_text("document upload")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".flash-success[role=status]")).to_contain_text("review queue")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    article_url = page.url
    log_out(page)

    # A second engineer reviews it from the queue, approves and publishes.
    log_in(page, live_server, "eng2@vendor.example")
    page.goto(f"{live_server}/articles?state=in_review")
    page.locator("table a.ref[href^='/articles/']").first.click()
    expect(page).to_have_url(article_url)
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".flash-success[role=status]")).to_contain_text("approved")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash-success[role=status]")).to_contain_text("published")
    log_out(page)

    # A Contoso customer finds it in the knowledge base, anonymised.
    log_in(page, live_server, "carol@contoso.example")
    page.get_by_role("link", name="Knowledge base").click()
    page.get_by_label("Search").fill("certificate rotation TLS handshake")
    page.get_by_role("button", name="Search").click()
    result = page.locator(".kb-result").first
    expect(result).to_contain_text("Document uploads rejected after certificate rotation")
    result.locator("a.case-title").click()
    expect(page.locator("#symptoms")).to_contain_text("TLS handshake error")
    expect(page.locator("main")).not_to_contain_text("Northwind")
    expect(page.locator("main")).not_to_contain_text("alice@")
    assert problems == []
    context.close()
