"""Screen-sharing on the case page: slots typed in the engineer's zone, read in each side's own,
accepted by the customer, the invitation for both, notes afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from critdesk.auth.models import User
from tests.auth.test_pages import open_web_session
from tests.case.test_api import ALICE, CAROL, ENG1
from tests.case.test_pages import NORTHWIND_OUTAGE, flash

REF = NORTHWIND_OUTAGE
LINK = "https://meet.example/claims-503"


@pytest.fixture
def browse(client: Any, database: Any, clock: Any, demo: None) -> Callable[[str], str]:
    return lambda email: open_web_session(client, database, clock, email)


@pytest.fixture
def investigating(client: Any, login: Any) -> str:
    started = client.post(f"/api/v1/cases/{REF}/actions/start_investigation", headers=login(ENG1))
    assert started.status_code == 200, started.text
    return REF


def post(client: Any, path: str, token: str, **fields: Any) -> str:
    response = client.post(path, data={"csrf_token": token} | fields, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/cases/{REF}#screen-sharing"
    return str(client.get(response.headers["location"]).text)


def propose(client: Any, token: str, *starts: str, minutes: str = "60", **extra: str) -> str:
    slots = list(starts) + [""] * (5 - len(starts))
    return post(
        client,
        f"/cases/{REF}/screen-shares",
        token,
        slot_start=slots,
        minutes=minutes,
        meeting_link=LINK,
        **extra,
    )


def sessions(client: Any, login: Any) -> list[dict[str, Any]]:
    return client.get(f"/api/v1/cases/{REF}/screen-shares", headers=login(ENG1)).json()


def test_slots_typed_in_london_are_stored_as_the_instants_meant(
    client, login, browse, investigating
) -> None:
    page = propose(client, browse(ENG1), "2026-11-26T14:00", "2027-07-01T14:00", minutes="45")
    assert flash(page) == ("success", "2 slots proposed; the customer picks one.")
    (share,) = sessions(client, login)
    assert [(s["start"], s["end"]) for s in share["slots"]] == [
        ("2026-11-26T14:00:00Z", "2026-11-26T14:45:00Z"),
        ("2027-07-01T13:00:00Z", "2027-07-01T13:45:00Z"),  # summer time: an hour ahead
    ]
    assert share["meeting_link"] == LINK and share["state"] == "proposed"


def test_each_side_reads_the_slots_in_its_own_zone_and_the_customer_accepts_one(
    client, login, browse, database, investigating
) -> None:
    with database.session() as db:
        db.scalar(select(User).where(User.email == ALICE)).time_zone = "America/New_York"
    propose(client, browse(ENG1), "2026-11-26T14:00", "2026-11-26T16:00")
    engineer = client.get(f"/cases/{REF}").text
    assert "<strong>Thu 26 Nov 2026 14:00 GMT</strong>" in engineer
    assert "Thu 26 Nov 2026 09:00 EST for the customer" in engineer
    token = browse(ALICE)
    customer = client.get(f"/cases/{REF}").text
    assert "<strong>Thu 26 Nov 2026 09:00 EST</strong>" in customer
    assert "Thu 26 Nov 2026 14:00 GMT for the engineer" in customer
    assert "Accept this time" in customer and f'action="/cases/{REF}/screen-shares"' not in customer
    (share,) = sessions(client, login)
    page = post(
        client,
        f"/cases/{REF}/screen-shares/{share['id']}/accept",
        token,
        start="2026-11-26T16:00:00+00:00",
    )
    assert flash(page) == ("success", "Slot accepted: download the invitation for your calendar.")
    invite = f"/api/v1/cases/{REF}/screen-shares/{share['id']}/invite.ics"
    assert f'href="{invite}" download>Add to calendar (.ics)' in page
    assert "Thu 26 Nov 2026 11:00 EST" in page
    for email in (ALICE, ENG1):
        browse(email)
        ics = client.get(invite)
        assert ics.status_code == 200 and "BEGIN:VEVENT" in ics.text
    assert sessions(client, login)[0]["accepted"]["start"] == "2026-11-26T16:00:00Z"


def test_the_engineer_records_notes_after_the_session(client, login, browse, investigating) -> None:
    token = browse(ENG1)
    propose(client, token, "2026-11-26T14:00")
    (share,) = sessions(client, login)
    post(
        client,
        f"/cases/{REF}/screen-shares/{share['id']}/accept",
        token,
        start="2026-11-26T14:00:00Z",
    )
    page = client.get(f"/cases/{REF}").text
    assert f'action="/cases/{REF}/screen-shares/{share["id"]}/notes"' in page
    page = post(
        client,
        f"/cases/{REF}/screen-shares/{share['id']}/notes",
        token,
        notes="Saw the pool exhaust at 40 sessions.",
    )
    assert flash(page) == ("success", "Session notes recorded on the timeline.")
    assert sessions(client, login)[0]["state"] == "done"
    browse(ALICE)
    assert "Saw the pool exhaust at 40 sessions." in client.get(f"/cases/{REF}").text


def test_a_session_answers_the_screen_sharing_request_it_was_proposed_for(
    client, login, browse, investigating
) -> None:
    token = browse(ENG1)
    asked = client.post(
        f"/api/v1/cases/{REF}/requests",
        headers=login(ENG1),
        json={"kind": "screen_share", "message": "Can we look at it together?"},
    ).json()
    page = client.get(f"/cases/{REF}").text
    assert f'<option value="{asked["id"]}">Screen-sharing request of' in page
    propose(client, token, "2026-11-26T14:00", request_id=str(asked["id"]))
    (share,) = sessions(client, login)
    post(
        client,
        f"/cases/{REF}/screen-shares/{share['id']}/accept",
        browse(ALICE),
        start="2026-11-26T14:00:00Z",
    )
    request = client.get(f"/api/v1/cases/{REF}/requests/{asked['id']}", headers=login(ENG1))
    assert request.json()["state"] == "answered"


@pytest.mark.parametrize(
    ("starts", "extra", "message"),
    [
        ((), {}, "Propose at least one slot."),
        (("2026-11-24T14:00",), {}, "Every proposed slot must start in the future."),
        (("2026-11-26T14:00", "2026-11-26T14:30"), {}, "Proposed slots must not overlap."),
        (("2026-11-26T14:00",), {"meeting_link": "not a link"}, "Meeting link:"),
        (("2026-11-26T14:00",), {"minutes": "7"}, "Choose how long the session lasts."),
    ],
)
def test_a_proposal_the_desk_refuses_is_a_message(
    client, login, browse, investigating, starts, extra, message
) -> None:
    token = browse(ENG1)
    fields = {"minutes": "60", "meeting_link": LINK} | extra
    slots = list(starts) + [""] * (5 - len(starts))
    page = post(client, f"/cases/{REF}/screen-shares", token, slot_start=slots, **fields)
    kind, text = flash(page)  # type: ignore[misc]
    assert kind == "error" and message in text, text
    assert sessions(client, login) == []


def test_only_a_proposed_slot_can_be_accepted(client, login, browse, investigating) -> None:
    propose(client, browse(ENG1), "2026-11-26T14:00")
    (share,) = sessions(client, login)
    token = browse(ALICE)
    path = f"/cases/{REF}/screen-shares/{share['id']}/accept"
    page = post(client, path, token, start="2026-11-26T15:00:00Z")
    assert flash(page) == ("error", "Accept one of the proposed slots&#39; start times.")
    assert sessions(client, login)[0]["state"] == "proposed"
    page = post(client, f"/cases/{REF}/screen-shares/{share['id']}/cancel", token)
    assert flash(page) == ("success", "Session cancelled.")
    again = post(client, path, token, start="2026-11-26T14:00:00Z")
    assert flash(again) == ("error", "This session is already cancelled.")


def test_customers_cannot_propose_or_write_notes(client, login, browse, investigating) -> None:
    token = browse(ALICE)
    page = propose(client, token, "2026-11-26T14:00")
    assert flash(page) == ("error", "Only engineers and leads arrange screen-sharing.")
    assert sessions(client, login) == []


def test_another_organisations_case_is_not_found(client, login, browse, investigating) -> None:
    propose(client, browse(ENG1), "2026-11-26T14:00")
    (share,) = sessions(client, login)
    token = browse(CAROL)
    base = f"/cases/{REF}/screen-shares"
    for path in (base, f"{base}/{share['id']}/accept", f"{base}/{share['id']}/cancel"):
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path


def test_screen_sharing_forms_need_the_session_token(client, login, browse, investigating) -> None:
    browse(ENG1)
    response = client.post(
        f"/cases/{REF}/screen-shares",
        data={"slot_start": "2026-11-26T14:00", "minutes": "60", "meeting_link": LINK},
    )
    assert response.status_code == 403
    assert sessions(client, login) == []
