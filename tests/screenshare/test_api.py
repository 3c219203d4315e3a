"""Screen-sharing: proposed slots in each side's zone, acceptance, invitation, notes."""

from __future__ import annotations

import pytest
from icalendar import Calendar

from tests.case.test_actions import act
from tests.case.test_api import ALICE, BOB, CAROL, ENG1, report

SLOTS = [
    {"start": "2026-11-26T14:00:00Z", "end": "2026-11-26T15:00:00Z"},
    {"start": "2026-11-27T09:30:00Z", "end": "2026-11-27T10:30:00Z"},
]


@pytest.fixture
def case(client, login) -> str:
    ref = report(client, login(CAROL), env="ch-prod")["ref"]
    act(client, login(ENG1), ref, "start_investigation")
    return ref


def propose(client, headers, ref, **body):  # type: ignore[no-untyped-def]
    payload = {"slots": SLOTS, "meeting_link": "https://meet.vendor.example/r/abc"} | body
    return client.post(f"/api/v1/cases/{ref}/screen-shares", headers=headers, json=payload)


def test_the_customer_accepts_a_proposed_slot_and_both_get_an_invitation(
    client, login, case
) -> None:
    proposed = propose(client, login(ENG1), case)
    assert proposed.status_code == 201, proposed.text
    share = proposed.json()
    assert share["state"] == "proposed"
    assert share["customer_time_zone"] == "Europe/London"
    assert share["slots"][0]["customer_local"] == "Thu 26 Nov 2026 14:00 GMT"
    carol = login(CAROL)
    accepted = client.post(
        f"/api/v1/cases/{case}/screen-shares/{share['id']}/accept",
        headers=carol,
        json={"start": "2026-11-27T09:30:00Z"},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["accepted"]["start"] == "2026-11-27T09:30:00Z"
    ics = client.get(accepted.json()["invite_url"], headers=carol)
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    event = next(c for c in Calendar.from_ical(ics.content).walk() if c.name == "VEVENT")
    assert str(event["location"]) == "https://meet.vendor.example/r/abc"
    assert event.decoded("dtstart").isoformat() == "2026-11-27T09:30:00+00:00"
    attendees = [str(a) for a in event.get("attendee")]
    assert "mailto:carol@contoso.example" in attendees
    assert str(event["organizer"]) == "mailto:eng1@vendor.example"
    assert case in str(event["summary"])


def test_accepting_a_slot_that_was_not_proposed_is_refused(client, login, case) -> None:
    share = propose(client, login(ENG1), case).json()
    response = client.post(
        f"/api/v1/cases/{case}/screen-shares/{share['id']}/accept",
        headers=login(CAROL),
        json={"start": "2026-11-27T11:00:00Z"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "slot_not_proposed"


def test_accepting_twice_is_a_conflict_and_no_invite_before_acceptance(client, login, case) -> None:
    share = propose(client, login(ENG1), case).json()
    carol = login(CAROL)
    invite = client.get(
        f"/api/v1/cases/{case}/screen-shares/{share['id']}/invite.ics", headers=carol
    )
    assert invite.status_code == 409
    url = f"/api/v1/cases/{case}/screen-shares/{share['id']}/accept"
    assert client.post(url, headers=carol, json={"start": SLOTS[0]["start"]}).status_code == 200
    assert client.post(url, headers=carol, json={"start": SLOTS[1]["start"]}).status_code == 409


def test_notes_after_the_session_land_on_the_timeline(client, login, case) -> None:
    share = propose(client, login(ENG1), case).json()
    client.post(
        f"/api/v1/cases/{case}/screen-shares/{share['id']}/accept",
        headers=login(CAROL),
        json={"start": SLOTS[0]["start"]},
    )
    done = client.post(
        f"/api/v1/cases/{case}/screen-shares/{share['id']}/notes",
        headers=login(ENG1),
        json={"notes": "Reproduced with the ward tablet."},
    )
    assert done.json()["state"] == "done"
    timeline = client.get(f"/api/v1/cases/{case}", headers=login(CAROL)).json()["timeline"]
    assert timeline[-1]["kind"] == "screen_share_notes"
    assert timeline[-1]["message"] == "Reproduced with the ward tablet."


def test_accepting_answers_the_linked_screen_share_request(client, login, case) -> None:
    eng = login(ENG1)
    request = client.post(
        f"/api/v1/cases/{case}/requests",
        headers=eng,
        json={"kind": "screen_share", "message": "Can we look together?"},
    ).json()
    share = propose(client, eng, case, request_id=request["id"]).json()
    client.post(
        f"/api/v1/cases/{case}/screen-shares/{share['id']}/accept",
        headers=login(CAROL),
        json={"start": SLOTS[0]["start"]},
    )
    detail = client.get(f"/api/v1/cases/{case}", headers=eng).json()
    assert detail["state"] == "investigating"


@pytest.mark.parametrize(
    "slots",
    [
        [],
        [{"start": "2026-11-20T10:00:00Z", "end": "2026-11-20T11:00:00Z"}],
        [{"start": "2026-11-26T10:00:00Z", "end": "2026-11-26T10:05:00Z"}],
        [
            {"start": "2026-11-26T10:00:00Z", "end": "2026-11-26T11:00:00Z"},
            {"start": "2026-11-26T10:30:00Z", "end": "2026-11-26T11:30:00Z"},
        ],
        [{"start": "2026-11-26T10:00:00", "end": "2026-11-26T11:00:00"}],
    ],
)
def test_bad_slots_are_refused(client, login, case, slots) -> None:
    assert propose(client, login(ENG1), case, slots=slots).status_code == 422


def test_only_engineers_propose_and_only_the_case_parties_accept(client, login, case) -> None:
    assert propose(client, login(CAROL), case).status_code == 403
    share = propose(client, login(ENG1), case).json()
    stranger = client.post(
        f"/api/v1/cases/{case}/screen-shares/{share['id']}/accept",
        headers=login(ALICE),
        json={"start": SLOTS[0]["start"]},
    )
    assert stranger.status_code == 404
    assert propose(client, login(ENG1), case, meeting_link="javascript:alert(1)").status_code == 422


def test_another_cases_session_id_is_not_found(client, login, case) -> None:
    share = propose(client, login(ENG1), case).json()
    other = report(client, login(BOB))["ref"]
    response = client.post(
        f"/api/v1/cases/{other}/screen-shares/{share['id']}/accept",
        headers=login(BOB),
        json={"start": SLOTS[0]["start"]},
    )
    assert response.status_code == 404
