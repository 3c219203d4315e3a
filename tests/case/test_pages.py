"""The case pages: reporting with a live preview, the case list, a case page and its actions."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from critdesk.auth.models import User
from critdesk.case import pages, report_pages
from critdesk.case.models import Case, CaseEvent
from critdesk.templating import duration, label, relative, sentence
from tests.auth.test_pages import BROWSER, open_web_session
from tests.case.test_api import ALICE, BOB, CAROL, ENG1, ERIN, LEAD

ENG2 = "eng2@vendor.example"
DAN = "dan@fabrikam.example"
# The demo's cases (see critdesk.demo): Northwind's S1 outage waits for an engineer, Contoso's
# is being investigated, Northwind's upload problem is resolved, Fabrikam's how-to redirected.
NORTHWIND_OUTAGE, FABRIKAM_SYNC, CONTOSO_SLOW = "PCH-000001", "PCH-000002", "PCH-000003"
NORTHWIND_UAT, NORTHWIND_RESOLVED, FABRIKAM_HOWTO = "PCH-000004", "PCH-000005", "PCH-000006"


@pytest.fixture
def browse(client: Any, database: Any, clock: Any, demo: None) -> Callable[[str], str]:
    return lambda email: open_web_session(client, database, clock, email)


def env_value(html: str, name: str) -> str:
    """The radio value of an environment on the report form, found by its name."""
    match = re.search(
        rf'name="environment_id" value="(\d+)"[^>]*>\s*<span class="env-body">\s*'
        rf'<span class="env-name">{name}</span>',
        html,
    )
    assert match, f"no environment {name} on the form"
    return match.group(1)


def outage_form(html: str, env: str = "nw-prod", **overrides: str) -> dict[str, str]:
    hidden = dict(re.findall(r'name="(csrf_token|form_key)" value="([^"]+)"', html))
    form = {
        "csrf_token": hidden["csrf_token"],
        "form_key": hidden["form_key"],
        "environment_id": env_value(html, env),
        "title": "Checkout fails for everyone",
        "description": "Every checkout answers HTTP 500 since 09:12.",
        "app_unavailable": "1",
        "breadth": "all_users",
        "end_users_blocked": "yes",
    }
    return {k: v for k, v in (form | overrides).items() if v is not None}


def report_through_form(client: Any, **overrides: str) -> str:
    page = client.get("/cases/new").text
    response = client.post(
        "/cases/new", data=outage_form(page, **overrides), follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).rsplit("/", 1)[1]


def act(client: Any, token: str, ref: str, action: str, **fields: str) -> Any:
    """Posts an action form as the page does; returns the case page it redirects back to."""
    response = client.post(
        f"/cases/{ref}/actions/{action}",
        data={"csrf_token": token} | fields,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/cases/{ref}"
    return client.get(response.headers["location"])


def flash(html: str) -> tuple[str, str] | None:
    found = re.search(r'class="flash flash-(\w+)" role="status">([^<]*)<', html)
    return (found.group(1), found.group(2)) if found else None


def case_state(client: Any, login: Any, ref: str) -> dict[str, Any]:
    return client.get(f"/api/v1/cases/{ref}", headers=login(ENG1)).json()


# --- reporting --------------------------------------------------------------------------


def test_the_report_form_lists_the_customers_environments_with_type_and_production(
    client, browse
) -> None:
    browse(ALICE)
    page = client.get("/cases/new").text
    assert "nw-prod" in page and "nw-uat" in page and "ch-prod" not in page
    assert "Cloud" in page and "Production" in page and "Non-production" in page
    assert "Enterprise package" in page and "24x7" in page


def test_a_customer_reports_through_the_form_and_lands_on_the_new_case(
    client, login, browse
) -> None:
    browse(ALICE)
    ref = report_through_form(client)
    page = client.get(f"/cases/{ref}").text
    assert flash(page) == ("success", f"{ref} reported: an engineer will start investigating it.")
    assert "Checkout fails for everyone" in page
    case = case_state(client, login, ref)
    assert (case["severity"], case["qualification"]["status"], case["state"]) == (
        "S1",
        "critical",
        "new",
    )
    assert case["reporter"]["email"] == ALICE and case["channel"] == "web"


def test_sending_the_same_form_twice_makes_one_case(client, browse) -> None:
    browse(ALICE)
    form = outage_form(client.get("/cases/new").text)
    first = client.post("/cases/new", data=form, follow_redirects=False)
    second = client.post("/cases/new", data=form, follow_redirects=False)
    assert first.headers["location"] == second.headers["location"]


def test_a_form_with_mistakes_comes_back_with_messages_and_the_answers_kept(
    client, login, browse
) -> None:
    browse(ALICE)
    before = client.get("/api/v1/cases", headers=login(ALICE)).json()["items"]
    page = client.get("/cases/new").text
    form = outage_form(page, title="x", breadth=None, description="Users see <b>500</b>")
    response = client.post("/cases/new", data=form)
    assert response.status_code == 422
    assert "Please check the answers marked below." in response.text
    assert report_pages.FIELD_MESSAGES["title"] in response.text
    assert report_pages.FIELD_MESSAGES["breadth"] in response.text
    assert "Users see &lt;b&gt;500&lt;/b&gt;</textarea>" in response.text
    assert 'name="app_unavailable" value="1" checked' in response.text
    assert f'value="{form["environment_id"]}" checked' in response.text
    assert 'name="end_users_blocked" value="yes" checked' in response.text
    assert client.get("/api/v1/cases", headers=login(ALICE)).json()["items"] == before


def test_another_organisations_environment_is_refused_on_the_form(client, login, browse) -> None:
    browse(ALICE)
    page = client.get("/cases/new").text
    with_foreign = outage_form(page) | {"environment_id": "99999"}
    response = client.post("/cases/new", data=with_foreign)
    assert response.status_code == 422
    assert "is not one of your organisation&#39;s environments" in response.text


def test_the_preview_says_critical_s1_and_when_investigation_starts(client, browse) -> None:
    browse(ALICE)
    page = client.get("/cases/new").text
    preview = client.post("/cases/new/preview", data=outage_form(page))
    assert preview.status_code == 200
    assert "<html" not in preview.text
    assert 'data-qualification="critical"' in preview.text
    assert 'data-severity="S1"' in preview.text
    assert "by Wed 25 Nov 2026, 10:30 UTC" in preview.text
    assert "(in 30 min)" in preview.text
    assert "The clock starts as soon as you report." in preview.text


def test_the_preview_waits_for_enough_answers(client, browse) -> None:
    browse(ALICE)
    page = client.get("/cases/new").text
    preview = client.post("/cases/new/preview", data=outage_form(page, end_users_blocked=None))
    assert "data-severity" not in preview.text
    assert "Choose the environment and answer" in preview.text


def test_the_preview_needs_the_session_token(client, browse) -> None:
    browse(ALICE)
    form = outage_form(client.get("/cases/new").text) | {"csrf_token": "forged"}
    assert client.post("/cases/new/preview", data=form).status_code == 403


def test_a_non_production_preview_is_not_critical_with_a_redirect(database, clock, demo) -> None:
    with database.session() as db:
        bob = db.scalar(select(User).where(User.email == BOB))
        uat = next(e for e in bob.organisation.environments if e.name == "nw-uat")
        values = report_pages.read_report(report_pages.FormData()) | {
            "environment_id": str(uat.id),
            "breadth": "particular_circumstance",
            "end_users_blocked": "no",
        }
        preview = report_pages.preview_context(db=db, user=bob, values=values, now=clock.now)
    assert preview is not None
    assert preview["severity"] == "S4"
    assert preview["qualification"]["status"] == "not_critical"
    assert preview["qualification"]["suggested_redirect"] == "support_helpdesk"


def test_after_business_hours_the_preview_says_when_the_clock_starts(client, clock, browse) -> None:
    clock.set(clock.now.replace(day=27, hour=18))  # Friday 27 November 2026, 18:00 London
    browse(CAROL)
    page = client.get("/cases/new").text
    preview = client.post("/cases/new/preview", data=outage_form(page, env="ch-prod")).text
    assert "the clock starts Mon 30 Nov 2026, 09:00 GMT (in 2 d 15 h)" in preview
    assert "by Mon 30 Nov 2026, 13:00 GMT" in preview


def test_an_essential_customer_is_told_which_channel_it_has_instead_of_the_form(
    client, browse
) -> None:
    token = browse(ERIN)
    page = client.get("/cases/new")
    assert page.status_code == 200
    assert 'id="report-form"' not in page.text
    assert "does not include the critical-issue desk" in page.text
    assert "ordinary Support Helpdesk" in page.text
    refused = client.post("/cases/new", data={"csrf_token": token, "title": "Down"})
    assert refused.status_code == 403


def test_staff_have_no_report_form(client, browse) -> None:
    browse(ENG1)
    response = client.get("/cases/new")
    assert response.status_code == 403
    assert "reported by a customer" in response.text


# --- the list ---------------------------------------------------------------------------


def refs_on(html: str) -> list[str]:
    return re.findall(r'<a class="ref" href="/cases/(PCH-\d+)">', html)


def test_a_customer_sees_only_its_own_organisations_cases(client, browse) -> None:
    browse(ALICE)
    page = client.get("/cases").text
    assert refs_on(page) == [NORTHWIND_RESOLVED, NORTHWIND_UAT, NORTHWIND_OUTAGE]
    assert "<th>Organisation</th>" not in page
    browse(CAROL)
    assert refs_on(client.get("/cases").text) == [CONTOSO_SLOW]


def test_engineers_see_every_case_with_its_organisation(client, browse) -> None:
    browse(ENG1)
    page = client.get("/cases").text
    assert len(refs_on(page)) == 6
    assert "<th>Organisation</th>" in page and "Fabrikam Retail" in page


def test_the_list_filters_by_state(client, browse) -> None:
    browse(ENG1)
    assert refs_on(client.get("/cases?state=resolved").text) == [NORTHWIND_RESOLVED]
    open_refs = refs_on(client.get("/cases?state=open").text)
    assert open_refs == [NORTHWIND_UAT, CONTOSO_SLOW, FABRIKAM_SYNC, NORTHWIND_OUTAGE]
    assert len(refs_on(client.get("/cases?state=nonsense").text)) == 6


def test_the_list_pages_through_older_cases(client, browse, monkeypatch) -> None:
    monkeypatch.setattr(pages, "PAGE_SIZE", 4)
    browse(ENG1)
    first = client.get("/cases").text
    assert refs_on(first) == ["PCH-000006", "PCH-000005", "PCH-000004", "PCH-000003"]
    older = re.search(r'href="(/cases\?cursor=[^"]+)">Older', first)
    assert older
    second = client.get(older.group(1).replace("&amp;", "&")).text
    assert refs_on(second) == ["PCH-000002", "PCH-000001"]
    assert "Older &rarr;" not in second


def test_a_cursor_the_page_never_gave_is_refused(client, browse) -> None:
    browse(ENG1)
    assert client.get("/cases?cursor=%%%").status_code == 422


# --- one case ---------------------------------------------------------------------------


def test_another_organisations_case_reads_as_absent(client, browse) -> None:
    token = browse(CAROL)
    response = client.get(f"/cases/{NORTHWIND_OUTAGE}")
    assert response.status_code == 404
    assert "Not found" in response.text and "Claims portal" not in response.text
    action = client.post(f"/cases/{NORTHWIND_OUTAGE}/actions/close", data={"csrf_token": token})
    assert action.status_code == 404


def test_a_case_page_shows_what_is_known(client, browse) -> None:
    browse(ALICE)
    page = client.get(f"/cases/{NORTHWIND_OUTAGE}").text
    for text in (
        "Claims portal returns HTTP 503 for every user",
        "nw-prod · Cloud",
        "The application is unavailable",
        "All users",
        "Yes: they can no longer complete their journeys",
        "The application fails for all users.",
        "End users can no longer complete their journeys.",
        "30 min of desk time (Enterprise)",
        "Due</dt><dd>Wed 25 Nov 2026, 10:18 UTC",
        "Alice Northwind</strong> reported the issue",
    ):
        assert text in page, text
    assert 'data-due="2026-11-25T10:18:00Z"' in page
    resolved = client.get(f"/cases/{NORTHWIND_RESOLVED}").text
    assert "Workaround provided" in resolved and "intermediate certificate" in resolved


def test_staff_read_times_in_london_and_customers_in_their_packages_zone(client, browse) -> None:
    browse(CAROL)
    assert "Reported Tue 24 Nov 2026, 07:00 GMT" in client.get(f"/cases/{CONTOSO_SLOW}").text
    browse(ALICE)
    assert "Reported Wed 25 Nov 2026, 09:48 UTC" in client.get(f"/cases/{NORTHWIND_OUTAGE}").text
    browse(ENG1)
    assert "Reported Wed 25 Nov 2026, 09:48 GMT" in client.get(f"/cases/{NORTHWIND_OUTAGE}").text


def test_a_customer_never_sees_an_internal_event(client, database, clock, browse) -> None:
    with database.session() as db:
        db.add(
            CaseEvent(
                case_id=1,
                at=clock.now,
                actor_id=db.scalar(select(User.id).where(User.email == ENG1)),
                kind="note",
                internal=True,
                message="Suspect their reverse proxy; do not tell them yet.",
                data={},
            )
        )
    browse(ALICE)
    customer_view = client.get(f"/cases/{NORTHWIND_OUTAGE}").text
    assert "reverse proxy" not in customer_view and "Internal" not in customer_view
    browse(ENG1)
    engineer_view = client.get(f"/cases/{NORTHWIND_OUTAGE}").text
    assert "Suspect their reverse proxy" in engineer_view
    assert 'class="chip chip-internal">Internal<' in engineer_view


def test_the_timeline_reads_oldest_first_with_before_and_after(client, browse) -> None:
    browse(CAROL)
    page = client.get(f"/cases/{CONTOSO_SLOW}").text
    kinds = re.findall(r'<li class="event event-(\w+)', page)
    assert kinds == ["reported", "assigned", "investigation_started"]
    assert re.search(r'class="before">New</span> &rarr;\s*<span class="after">Investigating', page)
    assert "eng1@vendor.example" in page  # the owner change


def test_describe_event_splits_changes_from_details() -> None:
    described = pages.describe_event(
        {
            "at": None,
            "kind": "investigation_started",
            "actor": {"name": "Eli Engineer", "email": ENG1},
            "message": None,
            "internal": False,
            "data": {
                "state": ["new", "investigating"],
                "sla": {"status": "met", "business_seconds_taken": 600},
                "outcomes": [{"type": "workaround_provided", "text": "Restart"}],
                "reason": "because",
            },
        }
    )
    assert described["actor"] == "Eli Engineer"
    assert described["what"] == "started investigating"
    assert described["changes"] == [{"field": "state", "before": "new", "after": "investigating"}]
    assert {"field": "sla", "value": "met", "seconds": 600} in described["details"]
    assert {"field": "reason", "value": "because"} in described["details"]
    unnamed = {"at": None, "actor": None, "message": None, "internal": False, "data": {}}
    assert pages.describe_event(unnamed | {"kind": "info_request_reminder"})["what"] == (
        "sent a reminder"
    )
    assert pages.describe_event(unnamed | {"kind": "something_new"})["what"] == "something new"


# --- actions ----------------------------------------------------------------------------


def _viewer(role: str, organisation_id: int | None = None, user_id: int = 7) -> User:
    return User(id=user_id, role=role, organisation_id=organisation_id)


@pytest.mark.parametrize(
    ("viewer", "state", "owner_id", "shown"),
    [
        (_viewer("customer", 1), "new", None, set()),
        (_viewer("customer_admin", 1), "resolved", 9, {"close", "confirm", "reopen"}),
        (_viewer("customer", 1), "redirected", 9, {"close", "reopen"}),
        (_viewer("customer", 2), "resolved", 9, set()),  # another organisation's case
        (
            _viewer("engineer"),
            "new",
            None,
            {"assign_self", "start_investigation", "assess", "redirect"},
        ),
        (
            _viewer("lead"),
            "new",
            None,
            {"assign_self", "assign_other", "start_investigation", "assess", "redirect"},
        ),
        (_viewer("engineer"), "investigating", 7, {"assess", "root_cause", "redirect", "resolve"}),
        (
            _viewer("engineer"),
            "awaiting_customer",
            9,
            {"assign_self", "assess", "root_cause", "redirect", "resolve"},
        ),
        (_viewer("engineer"), "resolved", 7, {"close", "reopen", "root_cause"}),
        (_viewer("engineer"), "closed", 7, {"reopen"}),
        (_viewer("account_manager"), "new", None, set()),
    ],
)
def test_action_forms_follow_the_role_and_the_state(viewer, state, owner_id, shown) -> None:
    case = Case(state=state, organisation_id=1, owner_id=owner_id)
    actions = pages.available_actions(viewer, case)
    assert {name for name, allowed in actions.items() if allowed} == shown


def test_an_engineer_works_a_case_through_every_action_form(client, login, browse) -> None:
    token = browse(ENG1)
    ref = NORTHWIND_OUTAGE
    page = act(client, token, ref, "assign", engineer=ENG1)
    assert flash(page.text) == ("success", "Case assigned.")
    page = act(client, token, ref, "start_investigation")
    assert flash(page.text) == ("success", "Investigation started: the SLA clock has stopped.")
    assert 'data-sla-status="met"' in page.text
    act(client, token, ref, "assess", severity="S2", reason="Only the claims portal is down")
    assert case_state(client, login, ref)["severity"] == "S2"
    page = act(
        client,
        token,
        ref,
        "resolve",
        workaround="Roll back to 10.4.1 in the Cloud portal.",
    )
    assert flash(page.text) == ("success", "Case resolved.")
    assert "Roll back to 10.4.1" in page.text
    act(client, token, ref, "close")
    assert case_state(client, login, ref)["state"] == "closed"
    act(client, token, ref, "reopen", reason="It came back")
    case = case_state(client, login, ref)
    assert case["state"] == "investigating"
    assert [e["kind"] for e in case["timeline"]][-6:] == [
        "assigned",
        "investigation_started",
        "assessed",
        "resolved",
        "closed",
        "reopened",
    ]


def test_a_lead_assigns_to_an_engineer_and_redirects(client, login, browse) -> None:
    token = browse(LEAD)
    page = client.get(f"/cases/{FABRIKAM_SYNC}").text
    assert f'<option value="{ENG2}"' in page and "Choose an engineer" in page
    act(client, token, FABRIKAM_SYNC, "assign", engineer=ENG2)
    assert case_state(client, login, FABRIKAM_SYNC)["owner"]["email"] == ENG2
    page = act(
        client,
        token,
        NORTHWIND_UAT,
        "redirect",
        target="documentation",
        message="See the export limits.",
        links="https://docs.example/export\n\n",
    )
    assert flash(page.text) == ("success", "Case redirected; the customer sees where to go.")
    assert "Where to go next: Documentation" in page.text
    assert 'href="https://docs.example/export"' in page.text


def test_a_customer_confirms_a_resolution(client, login, browse) -> None:
    token = browse(ALICE)
    page = act(client, token, NORTHWIND_RESOLVED, "confirm")
    assert flash(page.text)[0] == "success"  # type: ignore[index]
    assert case_state(client, login, NORTHWIND_RESOLVED)["state"] == "closed"


# Who tries what on which case, and (part of) the message the case page then shows.
REFUSALS = [
    (ENG1, CONTOSO_SLOW, "start_investigation", {}, "Cannot start investigation a case"),
    (ENG1, NORTHWIND_OUTAGE, "assign", {"engineer": ENG2}, "Only a lead may assign"),
    (ENG1, NORTHWIND_OUTAGE, "assess", {"severity": "S9", "reason": "x"}, "Severity:"),
    (ENG1, NORTHWIND_OUTAGE, "redirect", {"target": "documentation", "message": "x"}, "links"),
    (ENG1, NORTHWIND_OUTAGE, "resolve", {"bug_link": "BUG-1"}, "Bug reported: write what"),
    (ENG1, NORTHWIND_OUTAGE, "resolve", {"advice": " "}, "Write at least one outcome"),
    (ENG1, NORTHWIND_OUTAGE, "resolve", {"advice": "Restart"}, "Cannot resolve a case that is new"),
    (ALICE, NORTHWIND_OUTAGE, "start_investigation", {}, "Only engineers and leads"),
    (ALICE, NORTHWIND_OUTAGE, "close", {}, "Cannot close a case that is new"),
]


def test_a_refused_action_comes_back_as_a_message_and_changes_nothing(
    client, login, browse
) -> None:
    for email, ref, action, fields, message in REFUSALS:
        before = case_state(client, login, ref)
        token = browse(email)
        page = act(client, token, ref, action, **fields)
        kind, text = flash(page.text)  # type: ignore[misc]
        assert kind == "error" and message in text, (action, text)
        # The message is shown once, then cleared.
        assert flash(client.get(f"/cases/{ref}").text) is None
        after = case_state(client, login, ref)
        assert (after["state"], after["severity"], after["owner"]) == (
            before["state"],
            before["severity"],
            before["owner"],
        )


def test_an_action_without_the_session_token_is_refused(client, login, browse) -> None:
    browse(ENG1)
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post(f"/cases/{NORTHWIND_OUTAGE}/actions/start_investigation", data=data)
        assert response.status_code == 403
        assert "out of date or came from elsewhere" in response.text
    assert case_state(client, login, NORTHWIND_OUTAGE)["state"] == "new"


def test_an_unknown_action_is_not_found(client, browse) -> None:
    token = browse(ENG1)
    response = client.post(f"/cases/{NORTHWIND_OUTAGE}/actions/explode", data={"csrf_token": token})
    assert response.status_code == 404


def test_the_api_still_takes_the_session_cookie_with_the_header_token(client, browse) -> None:
    token = browse(ALICE)
    client.headers.update({"Accept": "application/json"})
    no_header = client.get("/api/v1/me")
    assert no_header.status_code == 200
    refused = client.post("/api/v1/cases/preview", json={})
    assert refused.status_code == 403
    allowed = client.post("/api/v1/cases/preview", json={}, headers={"X-CSRF-Token": token})
    assert allowed.status_code == 422  # through CSRF, then the body is checked
    client.headers.update(BROWSER)


# --- formatting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (1800, "30 min"),
        (4 * 3600, "4 h"),
        (5400, "1 h 30 min"),
        (86400 * 2 + 3600 * 3, "2 d 3 h"),
        (-600, "10 min"),
        (None, "—"),
    ],
)
def test_durations_read_naturally(seconds, text) -> None:
    assert duration(seconds) == text


def test_relative_times_round_to_the_minute(clock) -> None:
    from datetime import timedelta

    now = clock.now
    assert relative(now + timedelta(seconds=1799.6), now) == "in 30 min"
    assert relative(now - timedelta(minutes=12), now) == "12 min ago"
    assert relative(now + timedelta(seconds=20), now) == "now"


def test_identifiers_become_words_and_messages_sentences() -> None:
    assert label("awaiting_customer") == "Awaiting customer"
    assert label("app_unavailable") == "The application is unavailable"
    assert label("eng1@vendor.example") == "eng1@vendor.example"
    assert label("S1") == "S1"
    assert sentence("cannot close a case that is new") == "Cannot close a case that is new."


# --- the workspace: whom the case waits on, root cause, outcomes ---------------------------------


def start(client: Any, login: Any, ref: str) -> None:
    response = client.post(f"/api/v1/cases/{ref}/actions/start_investigation", headers=login(ENG1))
    assert response.status_code == 200, response.text


def banner(html: str) -> str:
    found = re.search(r'<p class="waiting-text">(.*?)</p>', html, re.S)
    assert found, "no waiting banner"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_the_banner_says_whom_the_case_waits_on_and_since_when(
    client, login, clock, browse
) -> None:
    browse(ENG1)
    assert banner(client.get(f"/cases/{NORTHWIND_OUTAGE}").text).startswith(
        "Waiting on us since Wed 25 Nov 2026, 09:48 GMT (12 min) · to start investigating"
    )
    start(client, login, NORTHWIND_OUTAGE)
    asked = client.post(
        f"/api/v1/cases/{NORTHWIND_OUTAGE}/requests",
        headers=login(ENG1),
        json={"kind": "question", "message": "Which version?"},
    )
    assert asked.status_code == 201
    clock.advance(hours=2)
    assert banner(client.get(f"/cases/{NORTHWIND_OUTAGE}").text) == (
        "Waiting on the customer since Wed 25 Nov 2026, 10:00 GMT (2 h) · 1 open request"
    )
    browse(ALICE)
    page = client.get(f"/cases/{NORTHWIND_OUTAGE}").text
    assert banner(page).startswith("Waiting on you since Wed 25 Nov 2026, 10:00 UTC (2 h)")
    assert 'data-waiting-on="customer"' in page


def test_the_lists_say_whom_each_case_waits_on(client, browse) -> None:
    browse(ENG1)
    queue = client.get("/queue").text
    row = queue[queue.index(f'<tr data-ref="{NORTHWIND_OUTAGE}">') :]
    assert re.search(r'waiting-on-vendor"[^>]*>Us · 12 min<', row)
    assert "<th>Waiting on</th>" in client.get("/cases").text
    browse(ALICE)
    mine = client.get("/cases").text
    assert re.search(r'waiting-on-customer"[^>]*>You · ', mine)  # the resolved case
    assert re.search(r'waiting-on-vendor"[^>]*>Vendor · 12 min<', mine)


def test_an_engineer_records_the_root_cause_with_its_evidence(client, login, browse) -> None:
    start(client, login, NORTHWIND_OUTAGE)
    said = client.post(
        f"/api/v1/cases/{NORTHWIND_OUTAGE}/comments",
        headers=login(ALICE),
        json={"body": "It started right after the 09:10 batch run."},
    ).json()
    token = browse(ENG1)
    page = client.get(f"/cases/{NORTHWIND_OUTAGE}").text
    assert f'name="evidence" value="comment:{said["id"]}"' in page
    page = act(
        client,
        token,
        NORTHWIND_OUTAGE,
        "root_cause",
        category="configuration",
        summary="The 09:10 batch exhausts the connection pool.",
        product_defect="no",
        evidence=f"comment:{said['id']}",
    ).text
    assert flash(page) == ("success", "Root cause recorded.")
    assert "Root cause: Configuration" in page and "Not a defect in the product." in page
    assert f'href="#comment-{said["id"]}">It started right after' in page
    recorded = case_state(client, login, NORTHWIND_OUTAGE)["root_cause"]
    assert recorded["evidence"] == [{"type": "comment", "id": said["id"]}]
    assert recorded["product_defect"] is False


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"summary": "x", "category": "configuration"}, "Say whether it is a defect"),
        ({"summary": "x", "category": "luck", "product_defect": "yes"}, "Category:"),
        (
            {
                "summary": "x",
                "category": "unknown",
                "product_defect": "yes",
                "evidence": "comment:99999",
            },
            "Comment 99999 is not part of PCH-000001",
        ),
        (
            {"summary": "x", "category": "unknown", "product_defect": "no", "evidence": "case:1"},
            "Evidence is a file or a comment of this case",
        ),
    ],
)
def test_a_root_cause_the_service_refuses_is_a_message(
    client, login, browse, fields, message
) -> None:
    start(client, login, NORTHWIND_OUTAGE)
    token = browse(ENG1)
    kind, text = flash(act(client, token, NORTHWIND_OUTAGE, "root_cause", **fields).text)  # type: ignore[misc]
    assert kind == "error" and message in text, text
    assert case_state(client, login, NORTHWIND_OUTAGE).get("root_cause") is None


def test_a_case_resolves_with_advice_a_workaround_and_a_bug_report_at_once(
    client, login, browse
) -> None:
    start(client, login, NORTHWIND_OUTAGE)
    token = browse(ENG1)
    page = act(
        client,
        token,
        NORTHWIND_OUTAGE,
        "resolve",
        advice="Raise the pool to 50 connections.",
        workaround="Move the batch to 02:00 meanwhile.",
        bug_link="BUG-7",
        bug_text="The pool does not queue requests; fixed in 10.4.3.",
    ).text
    assert flash(page) == ("success", "Case resolved.")
    assert '<a href="/bugs/BUG-7">BUG-7</a>' in page
    assert [
        (o["type"], o.get("link")) for o in case_state(client, login, NORTHWIND_OUTAGE)["outcomes"]
    ] == [
        ("resolution_advised", None),
        ("workaround_provided", None),
        ("bug_reported", "BUG-7"),
    ]
    browse(ALICE)
    customer = client.get(f"/cases/{NORTHWIND_OUTAGE}").text
    assert "Move the batch to 02:00 meanwhile." in customer
    assert "Confirm it works" in customer and 'id="resolve-form"' not in customer


def test_a_redirect_sends_only_its_targets_own_fields(client, login, browse) -> None:
    token = browse(ENG1)
    act(
        client,
        token,
        NORTHWIND_UAT,
        "redirect",
        target="third_party_support",
        message="Their SSO provider has to look at this.",
        links="https://docs.example/sso",
        third_party="Okta support",
    )
    redirect = case_state(client, login, NORTHWIND_UAT)["redirect"]
    assert (redirect["third_party"], redirect["links"]) == ("Okta support", [])
    page = client.get(f"/cases/{NORTHWIND_UAT}").text
    assert "Contact: <strong>Okta support</strong>" in page


def test_customers_get_no_engineer_forms_on_their_case(client, login, browse) -> None:
    start(client, login, NORTHWIND_OUTAGE)
    browse(ALICE)
    page = client.get(f"/cases/{NORTHWIND_OUTAGE}").text
    for engineer_only in (
        "/actions/root_cause",
        "/actions/resolve",
        "/actions/redirect",
        f'action="/cases/{NORTHWIND_OUTAGE}/requests"',
        f'action="/cases/{NORTHWIND_OUTAGE}/screen-shares"',
        f'action="/cases/{NORTHWIND_OUTAGE}/cloud-access"',
        "/bugs/link",
        'name="internal"',
    ):
        assert engineer_only not in page, engineer_only
    for shared in ('action="/cases/PCH-000001/comments"', 'action="/cases/PCH-000001/attachments"'):
        assert shared in page


@pytest.mark.parametrize(
    ("typed", "zone", "utc"),
    [
        ("2026-11-25T14:30", "Europe/London", "2026-11-25T14:30:00+00:00"),
        ("2027-07-01T14:30", "Europe/London", "2027-07-01T13:30:00+00:00"),
        ("2027-07-01T14:30", "America/New_York", "2027-07-01T18:30:00+00:00"),
        ("", "Europe/London", None),
    ],
)
def test_time_inputs_are_read_in_the_viewers_zone(typed, zone, utc) -> None:
    from datetime import UTC

    read = pages.local_datetime(typed, zone, "Due")
    assert (read.astimezone(UTC).isoformat() if read else None) == utc


def test_a_time_the_clocks_skip_is_refused() -> None:
    with pytest.raises(pages.Invalid, match="does not exist in Europe/London"):
        pages.local_datetime("2027-03-28T01:30", "Europe/London", "Due")
    with pytest.raises(pages.Invalid, match="Due: enter a date and a time"):
        pages.local_datetime("tomorrow", "Europe/London", "Due")


def test_sizes_read_as_people_write_them() -> None:
    assert [pages.human_size(n) for n in (0, 1023, 1024, 1536, 5 * 1024**3)] == [
        "0 bytes",
        "1023 bytes",
        "1.0 KB",
        "1.5 KB",
        "5.0 GB",
    ]


WORKSPACE_MODULES = (
    "critdesk.case.pages",
    "critdesk.case.report_pages",
    "critdesk.request.pages",
    "critdesk.comment.pages",
    "critdesk.attachment.pages",
    "critdesk.screenshare.pages",
    "critdesk.cloudaccess.pages",
    "critdesk.bug.pages",
)
PATH_VALUES = {"ref": NORTHWIND_OUTAGE, "action": "close", "key": "BUG-1"}


def test_every_form_of_the_workspace_needs_the_session_token(client, login, browse) -> None:
    import importlib

    client.post(
        "/api/v1/bugs",
        headers=login(ENG1),
        json={"title": "A bug title", "description": "x", "severity": "S3", "submit": False},
    )
    browse(ENG1)
    posts = [
        route.path
        for module in WORKSPACE_MODULES
        for route in importlib.import_module(module).router.routes
        if "POST" in getattr(route, "methods", ())
    ]
    assert len(posts) == 24
    for template in posts:
        path = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "1"), template)
        if path.endswith("/attachments"):
            response = client.post(
                path, data={"csrf_token": "forged"}, files={"file": ("a.log", b"x")}
            )
        else:
            response = client.post(path, data={"csrf_token": "forged"})
        assert response.status_code == 403, (path, response.status_code)
        assert "out of date or came from elsewhere" in response.text, path
