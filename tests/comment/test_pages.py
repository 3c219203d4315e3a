"""The conversation on the case page: both sides comment, engineers add internal notes that a
customer never sees."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.auth.test_pages import open_web_session
from tests.case.test_api import ALICE, AM, CAROL, ENG1
from tests.case.test_pages import NORTHWIND_OUTAGE, flash

REF = NORTHWIND_OUTAGE
NOTE = "Suspect their reverse proxy; do not tell them yet."


@pytest.fixture
def browse(client: Any, database: Any, clock: Any, demo: None) -> Callable[[str], str]:
    return lambda email: open_web_session(client, database, clock, email)


def comment(client: Any, token: str, body: str, ref: str = REF, **fields: str) -> Any:
    response = client.post(
        f"/cases/{ref}/comments",
        data={"csrf_token": token, "body": body} | fields,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/cases/{ref}#conversation"
    return client.get(response.headers["location"])


def comments(client: Any, login: Any, email: str = ENG1) -> list[tuple[str, bool]]:
    items = client.get(f"/api/v1/cases/{REF}/comments", headers=login(email)).json()["items"]
    return [(c["body"], c["internal"]) for c in items]


def test_the_customer_and_the_engineer_write_to_each_other(client, login, browse) -> None:
    page = comment(client, browse(ALICE), "It started after the 09:10 batch run.")
    assert flash(page.text) == ("success", "Comment sent.")
    page = comment(client, browse(ENG1), "Thanks, looking at the pool metrics.")
    assert flash(page.text) == ("success", "Comment sent.")
    assert comments(client, login) == [
        ("It started after the 09:10 batch run.", False),
        ("Thanks, looking at the pool metrics.", False),
    ]
    assert (
        'class="msg msg-customer"' in page.text and 'class="msg msg-vendor msg-mine"' in page.text
    )


def test_an_internal_note_is_marked_for_engineers_and_absent_for_the_customer(
    client, login, browse
) -> None:
    page = comment(client, browse(ENG1), NOTE, internal="true").text
    assert flash(page) == ("success", "Internal note added (engineers only).")
    assert "msg-internal" in page and "Internal note</span>" in page and NOTE in page
    assert comments(client, login) == [(NOTE, True)]
    browse(ALICE)
    customer = client.get(f"/cases/{REF}").text
    assert NOTE not in customer and "reverse proxy" not in customer
    assert "Internal" not in customer and "msg-internal" not in customer
    assert comments(client, login, ALICE) == []


def test_the_engineers_comment_box_has_the_internal_toggle_and_the_customers_not(
    client, browse
) -> None:
    browse(ENG1)
    engineer = client.get(f"/cases/{REF}").text
    assert '<input type="checkbox" name="internal" value="true">' in engineer
    assert '<span class="when-internal">Add internal note</span>' in engineer
    browse(ALICE)
    customer = client.get(f"/cases/{REF}").text
    assert 'name="body"' in customer and 'name="internal"' not in customer


def test_a_customer_cannot_slip_in_an_internal_note(client, login, browse) -> None:
    page = comment(client, browse(ALICE), "Hidden?", internal="true").text
    assert flash(page) == ("error", "Only vendor staff write internal notes.")
    assert comments(client, login) == []


def test_an_empty_comment_is_refused(client, login, browse) -> None:
    kind, text = flash(comment(client, browse(ALICE), "  \n ").text)  # type: ignore[misc]
    assert kind == "error" and "Body: String should have at least 1 character" in text
    assert comments(client, login) == []


def test_an_account_manager_reads_along_and_writes_notes_only(client, login, browse) -> None:
    token = browse(AM)
    page = client.get(f"/cases/{REF}").text
    assert '<input type="hidden" name="internal" value="true">' in page
    comment(client, token, "Renewal is next month; keep me posted.", internal="true")
    refused = comment(client, token, "Hello customer")
    assert flash(refused.text) == ("error", "Only engineers and leads write to the customer.")
    assert comments(client, login) == [("Renewal is next month; keep me posted.", True)]


def test_another_organisations_case_is_not_found(client, browse) -> None:
    token = browse(CAROL)
    response = client.post(
        f"/cases/{REF}/comments", data={"csrf_token": token, "body": "Hi"}, follow_redirects=False
    )
    assert response.status_code == 404


def test_a_comment_needs_the_session_token(client, login, browse) -> None:
    browse(ALICE)
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post(f"/cases/{REF}/comments", data=data | {"body": "Hi"})
        assert response.status_code == 403
    assert comments(client, login) == []
