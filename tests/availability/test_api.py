"""Availability over the API and on the customer's pages, with the clock injected."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.auth.test_pages import open_web_session
from tests.case.test_api import ALICE, AM, CAROL, DAN, ENG1, ERIN, report

FRIDAY_EVENING = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
CHRISTMAS_EVE = datetime(2026, 12, 24, 18, 0, tzinfo=UTC)


def availability(client: Any, headers: dict[str, str], **params: Any) -> Any:
    return client.get("/api/v1/availability", headers=headers, params=params)


def test_a_business_customer_is_told_when_the_clock_will_start(client, login, clock) -> None:
    carol = login(CAROL)
    clock.set(FRIDAY_EVENING)
    body = availability(client, carol).json()
    assert body["open_now"] is False
    assert body["package"] == {"code": "business", "name": "Business"}
    assert body["hours"] == "Mon–Fri 09:00–17:30 Europe/London, GB-ENG public holidays"
    assert body["next_open_at"] == "2026-11-30T09:00:00Z"
    assert body["message"] == "Closed — an engineer starts investigating from Mon 09:00 (London)"
    assert body["phone_number"] is None
    assert body["channels"] == ["web", "email"]
    # The same instant as the SLA clock of a case reported now.
    case = report(client, carol, "ch-prod")
    assert case["sla"]["clock_starts_at"] == body["next_open_at"]
    clock.set(CHRISTMAS_EVE)
    assert availability(client, carol).json()["next_open_at"] == "2026-12-29T09:00:00Z"


def test_an_open_desk_gives_its_phone_number_where_the_package_has_one(client, login) -> None:
    dan = availability(client, login(DAN)).json()
    assert (dan["open_now"], dan["next_open_at"]) == (True, None)
    assert dan["closes_at"] == "2026-11-25T22:00:00Z"
    assert dan["phone_number"] == "+44 20 7946 0018"
    alice = availability(client, login(ALICE)).json()
    assert alice["hours"] == "24x7" and alice["closes_at"] is None


def test_a_package_without_the_desk_says_where_to_go(client, login) -> None:
    erin = availability(client, login(ERIN)).json()
    assert erin["desk_access"] is False and erin["open_now"] is False
    assert "ordinary Support Helpdesk on the web portal and API" in erin["message"]


def test_staff_ask_about_one_organisation_and_customers_only_their_own(client, login) -> None:
    orgs = {
        o["name"]: o["id"] for o in client.get("/api/v1/organisations", headers=login(ENG1)).json()
    }
    contoso = orgs["Contoso Health"]
    assert availability(client, login(ENG1), organisation_id=contoso).json()["package"]["code"] == (
        "business"
    )
    assert availability(client, login(AM), organisation_id=contoso).status_code == 200
    assert availability(client, login(ENG1)).json()["error"]["code"] == "organisation_required"
    assert availability(client, login(ALICE), organisation_id=contoso).status_code == 404
    assert availability(client, login(CAROL), organisation_id=contoso).status_code == 200
    assert availability(client, login(ENG1), organisation_id=999_999).status_code == 404


def test_the_customers_pages_show_the_banner(client, database, clock, demo) -> None:
    clock.set(FRIDAY_EVENING)
    open_web_session(client, database, clock, CAROL)
    page = client.get("/cases").text
    assert "Closed — an engineer starts investigating from Mon 09:00 (London)" in page
    open_web_session(client, database, clock, ALICE)
    page = client.get("/cases").text
    assert "The desk is open now" in page
    assert "Call <strong>+44 20 7946 0099</strong> for production-down issues." in page
    assert "Desk hours" in client.get("/availability").text
    open_web_session(client, database, clock, ENG1)
    assert 'href="/phone"' in client.get("/queue").text
