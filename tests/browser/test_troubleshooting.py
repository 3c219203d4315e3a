"""End to end in Debian's Chromium: the troubleshooting workspace, from asking for logs to the
customer reading the workaround — and, when similar-bug search answers, filing a bug from the
case with its duplicate suggestions."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.browser.test_report_to_queue import log_in, screenshot

# The demo's S1 outage on Northwind's cloud production, being investigated (see conftest).
OUTAGE = "PCH-000001"
ENGINEER = "eng2@vendor.example"
CUSTOMER = "alice@northwind.example"
LOG = (
    b"2026-11-25 09:12:03,114 ERROR [http-nio-8080-exec-4] c.v.runtime.Claims - HTTP 503\n"
    b"2026-11-25 09:12:03,115 WARN  [http-nio-8080-exec-4] c.v.runtime.Pool - pool exhausted\n"
)


def new_page(browser: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return context, page, problems


def log_out(page: Any) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login$"))


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_logs_asked_uploaded_root_caused_and_resolved_with_a_workaround(live_server, browser):
    from playwright.sync_api import expect

    context, page, problems = new_page(browser)
    case_url = f"{live_server}/cases/{OUTAGE}"

    # The engineer asks for the runtime logs of the last hour.
    log_in(page, live_server, ENGINEER)
    page.goto(case_url)
    requests = page.locator("#requests")
    requests.locator("#ask > summary").click()
    requests.get_by_label("What do you need?").select_option("logs")
    expect(requests.get_by_label("Steps to perform")).to_be_hidden()
    requests.get_by_label("Message to the customer").fill(
        "Please send the runtime logs around the first HTTP 503, so we can see what the pool did."
    )
    requests.get_by_label("Runtime (application server) logs").check()
    requests.get_by_label("From").fill("2026-11-25T09:00")
    requests.get_by_label("Until").fill("2026-11-25T10:00")
    requests.get_by_role("button", name="Send request").click()
    expect(page.locator(".flash-success[role=status]")).to_contain_text("Log files request sent")
    expect(page.locator(".waiting")).to_contain_text("Waiting on the customer since")
    log_out(page)

    # The customer answers in the same form, with the file.
    log_in(page, live_server, CUSTOMER)
    page.goto(case_url)
    expect(page.locator(".waiting")).to_contain_text("Waiting on you since")
    request = page.locator("#requests article.req-open").first
    expect(request).to_contain_text("Runtime (application server) logs")
    request.get_by_label("Your answer").fill("Here is the runtime log from 09:00 to 10:00.")
    request.locator("input[type=file]").set_input_files(
        {"name": "runtime.log", "mimeType": "text/plain", "buffer": LOG}
    )
    request.get_by_role("button", name="Send answer").click()
    expect(page.locator(".flash-success[role=status]")).to_contain_text("Answer sent with 1 file")
    expect(page.locator(".waiting")).to_contain_text("Waiting on our engineers")
    conversation = page.locator("#conversation")
    conversation.get_by_label("Comment").fill("The 503s started right after the 09:10 batch run.")
    conversation.get_by_role("button", name="Send").click()
    expect(page.locator(".flash-success[role=status]")).to_contain_text("Comment sent")
    log_out(page)

    # The engineer sees the file, notes a suspicion internally, records the root cause.
    log_in(page, live_server, ENGINEER)
    page.goto(case_url)
    answered = page.locator("#requests article.req-answered").first
    expect(answered).to_contain_text("Here is the runtime log")
    expect(answered.locator(".file-chip")).to_have_text("runtime.log")
    expect(page.locator("#files")).to_contain_text("sha256")
    conversation = page.locator("#conversation")
    conversation.get_by_label("Comment").fill("Pool size is 10 while the batch opens 40 sessions.")
    conversation.locator(".toggle-internal").click()
    conversation.get_by_role("button", name="Add internal note").click()
    expect(page.locator(".flash-success[role=status]")).to_contain_text("Internal note added")

    root_cause = page.locator("#root-cause-form")
    root_cause.locator("summary").click()
    root_cause.get_by_label("Category").select_option("configuration")
    root_cause.get_by_label("Summary").fill(
        "The nightly batch runs at 09:10 and exhausts the 10-connection pool of nw-prod."
    )
    root_cause.get_by_role("radio", name="No").check()
    root_cause.locator("label.evidence-choice", has_text="runtime.log").click()
    root_cause.get_by_role("button", name="Save root cause").click()
    expect(page.locator(".flash-success[role=status]")).to_contain_text("Root cause recorded")
    expect(page.locator("#root-cause")).to_contain_text("Root cause: Configuration")
    expect(page.locator("#root-cause .evidence-list")).to_contain_text("runtime.log")

    resolve = page.locator("#resolve-form")
    resolve.locator("summary").click()
    resolve.get_by_label("Workaround").fill(
        "Move the batch to 02:00, or raise the pool to 50 connections in the Cloud portal."
    )
    resolve.get_by_role("button", name="Resolve case").click()
    expect(page.locator(".flash-success[role=status]")).to_contain_text("Case resolved")
    expect(page.locator("#outcome")).to_contain_text("Workaround provided")
    page.locator(".flash[role=status]").evaluate("el => el.remove()")
    screenshot(page, "case.png")
    log_out(page)

    # The customer reads the workaround, and never the internal note.
    log_in(page, live_server, CUSTOMER)
    page.goto(case_url)
    expect(page.locator("#outcome")).to_contain_text("Move the batch to 02:00")
    expect(page.locator(".waiting")).to_contain_text("to confirm the resolution works")
    expect(page.get_by_role("button", name="Confirm it works")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Pool size is 10")
    assert problems == []
    context.close()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_filing_a_bug_from_a_case_suggests_the_known_duplicate(live_server, browser):
    from playwright.sync_api import expect

    probe = httpx.Client(base_url=live_server)
    token = probe.post(
        "/api/v1/auth/token", json={"email": ENGINEER, "password": "demo-password-123"}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    known = probe.post(
        "/api/v1/bugs",
        headers=headers,
        json={
            "title": "Claims portal answers HTTP 503 when the connection pool is exhausted",
            "description": "Every request fails with HTTP 503 once the pool is exhausted.",
            "steps_to_reproduce": "Run 40 concurrent sessions against a pool of 10.",
            "expected": "Requests queue for a connection.",
            "actual": "HTTP 503 for every user.",
            "affected_versions": ["10.4.2"],
            "environment": {"deployment_type": "cloud", "product_version": "10.4.2"},
            "severity": "S1",
            "public": True,
            "workaround": "Raise the pool size in the Cloud portal.",
        },
    )
    assert known.status_code == 201, known.text
    similar = probe.get(
        "/api/v1/bugs/similar", headers=headers, params={"text": "HTTP 503 pool", "limit": 5}
    )
    if similar.status_code != 200:
        pytest.skip(f"similar-bug search answers {similar.status_code}")
    key = known.json()["key"]

    context, page, problems = new_page(browser)
    log_in(page, live_server, ENGINEER)
    page.goto(f"{live_server}/cases/{OUTAGE}")
    page.get_by_role("link", name="Create a bug report from this case").click()
    expect(page.get_by_label("Title")).to_have_value(re.compile("HTTP 503"))
    panel = page.locator("#similar")
    page.get_by_label("Title").fill("HTTP 503 for every user when the connection pool is exhausted")
    expect(panel.locator(f'.similar-item[data-key="{key}"]')).to_be_visible()
    expect(panel).to_contain_text("Raise the pool size")
    screenshot(page, "bug-from-case.png")
    panel.locator(f'.similar-item[data-key="{key}"]').get_by_role(
        "button", name="Link this case instead"
    ).click()
    expect(page).to_have_url(re.compile(rf"/cases/{OUTAGE}#known-issues$"))
    expect(page.locator(".flash-success[role=status]")).to_contain_text(f"linked to {key}")
    expect(page.locator("#known-issues")).to_contain_text(key)
    assert problems == []
    context.close()
