"""Info requests: the case waits on the customer while any is open."""

from __future__ import annotations

from typing import Any

import pytest

from tests.case.test_actions import act
from tests.case.test_api import ALICE, BOB, CAROL, ENG1, report


@pytest.fixture
def case(client, login) -> dict:
    ref = report(client, login(ALICE))["ref"]
    act(client, login(ENG1), ref, "start_investigation")
    return client.get(f"/api/v1/cases/{ref}", headers=login(ALICE)).json()


def ask(client: Any, headers: dict, ref: str, **body: Any) -> Any:
    return client.post(f"/api/v1/cases/{ref}/requests", headers=headers, json=body)


def answer(client: Any, headers: dict, ref: str, request_id: int, **body: Any) -> Any:
    return client.post(
        f"/api/v1/cases/{ref}/requests/{request_id}/answer", headers=headers, json=body
    )


def state(client: Any, headers: dict, ref: str) -> str:
    return client.get(f"/api/v1/cases/{ref}", headers=headers).json()["state"]


def test_asking_for_logs_makes_the_case_wait_on_the_customer(client, login, clock, case) -> None:
    eng, alice = login(ENG1), login(ALICE)
    response = ask(
        client,
        eng,
        case["ref"],
        kind="logs",
        message="Please send the server logs.",
        details={
            "logs": ["application server log", "nginx error log"],
            "window_start": "2026-11-25T08:30:00Z",
            "window_end": "2026-11-25T09:30:00Z",
        },
    )
    assert response.status_code == 201, response.text
    request = response.json()
    assert request["state"] == "open"
    assert request["details"]["logs"] == ["application server log", "nginx error log"]
    assert request["due_at"] == "2026-11-26T10:00:00Z"  # default: 24 h
    detail = client.get(f"/api/v1/cases/{case['ref']}", headers=alice).json()
    assert detail["state"] == "awaiting_customer"
    assert detail["waiting"] == {"on": "customer", "since": "2026-11-25T10:00:00Z"}
    assert detail["timeline"][-1]["kind"] == "info_requested"


def test_answering_the_last_request_returns_the_case_to_the_engineer(
    client, login, clock, case
) -> None:
    eng, bob = login(ENG1), login(BOB)
    first = ask(client, eng, case["ref"], kind="question", message="Which version?").json()
    second = ask(client, eng, case["ref"], kind="question", message="Since when?").json()
    clock.advance(minutes=5)
    assert answer(client, bob, case["ref"], first["id"], message="10.4.2").status_code == 200
    assert state(client, bob, case["ref"]) == "awaiting_customer"
    answered = answer(client, bob, case["ref"], second["id"], message="Since 08:40.").json()
    assert answered["state"] == "answered"
    assert answered["answered_by"]["email"] == BOB
    detail = client.get(f"/api/v1/cases/{case['ref']}", headers=bob).json()
    assert detail["state"] == "investigating"
    assert detail["waiting"]["on"] == "vendor"
    assert detail["timeline"][-1]["kind"] == "info_request_answered"


def test_a_test_request_needs_steps_and_its_answer_a_result(client, login, case) -> None:
    eng, alice = login(ENG1), login(ALICE)
    assert ask(client, eng, case["ref"], kind="test", message="Try this").status_code == 422
    request = ask(
        client,
        eng,
        case["ref"],
        kind="test",
        message="Try this",
        details={
            "steps": ["Open the claims page", "Submit a claim"],
            "expected": "The claim is saved",
        },
    ).json()
    missing = answer(client, alice, case["ref"], request["id"], message="done")
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "test_result_required"
    done = answer(client, alice, case["ref"], request["id"], message="Saved fine", result="pass")
    assert done.json()["result"] == "pass"


def test_answering_an_answered_or_cancelled_request_is_a_conflict(client, login, case) -> None:
    eng, alice = login(ENG1), login(ALICE)
    one = ask(client, eng, case["ref"], kind="question", message="A?").json()
    two = ask(client, eng, case["ref"], kind="question", message="B?").json()
    answer(client, alice, case["ref"], one["id"], message="a")
    again = answer(client, alice, case["ref"], one["id"], message="a again")
    assert again.status_code == 409 and again.json()["error"]["code"] == "request_not_open"
    cancelled = client.post(
        f"/api/v1/cases/{case['ref']}/requests/{two['id']}/cancel",
        headers=eng,
        json={"reason": "not needed"},
    )
    assert cancelled.json()["state"] == "cancelled"
    assert state(client, alice, case["ref"]) == "investigating"
    late = answer(client, alice, case["ref"], two["id"], message="b")
    assert late.status_code == 409


def test_an_answer_carries_files_of_the_same_case_only(
    client, login, database, clock, case
) -> None:
    from critdesk.attachment.models import Attachment

    other = report(client, login(CAROL), env="ch-prod")
    with database.session() as session:
        ids = {}
        for name, ref in (("mine.log", case["ref"]), ("theirs.log", other["ref"])):
            row = Attachment(
                case_id=int(ref[4:]),
                uploaded_by_id=1,
                name=name,
                size=1,
                sha256="0" * 64,
                media_type="text/plain",
                kind="log",
                storage_key=name,
                created_at=clock.now,
            )
            session.add(row)
            session.flush()
            ids[name] = row.id
    eng, alice = login(ENG1), login(ALICE)
    request = ask(
        client,
        eng,
        case["ref"],
        kind="logs",
        message="Logs please",
        details={"logs": ["server log"]},
    ).json()
    foreign = answer(
        client,
        alice,
        case["ref"],
        request["id"],
        message="here",
        attachment_ids=[ids["theirs.log"]],
    )
    assert foreign.status_code == 422
    ok = answer(
        client, alice, case["ref"], request["id"], message="here", attachment_ids=[ids["mine.log"]]
    )
    assert ok.json()["attachment_ids"] == [ids["mine.log"]]


def test_requests_need_an_investigation_and_an_engineer(client, login) -> None:
    ref = report(client, login(ALICE))["ref"]
    early = ask(client, login(ENG1), ref, kind="question", message="?")
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "investigation_not_started"
    act(client, login(ENG1), ref, "start_investigation")
    assert ask(client, login(ALICE), ref, kind="question", message="?").status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "poem", "message": "x"},
        {"kind": "question"},
        {"kind": "question", "message": "x", "due_at": "2026-01-01T00:00:00Z"},
        {"kind": "question", "message": "x", "due_at": "tomorrow"},
        {"kind": "artifact", "message": "x", "details": {"artifact_type": "spreadsheet"}},
        {
            "kind": "logs",
            "message": "x",
            "details": {
                "logs": ["a"],
                "window_start": "2026-11-25T10:00:00Z",
                "window_end": "2026-11-25T09:00:00Z",
            },
        },
    ],
)
def test_bad_requests_are_refused_and_nothing_changes(client, login, case, body) -> None:
    response = ask(client, login(ENG1), case["ref"], **body)
    assert response.status_code == 422, response.text
    assert state(client, login(ALICE), case["ref"]) == "investigating"
    assert (
        client.get(f"/api/v1/cases/{case['ref']}/requests", headers=login(ALICE)).json()["items"]
        == []
    )


def test_resolving_cancels_what_is_still_open(client, login, case) -> None:
    eng = login(ENG1)
    request = ask(client, eng, case["ref"], kind="question", message="?").json()
    act(
        client,
        eng,
        case["ref"],
        "resolve",
        {"outcomes": [{"type": "resolution_advised", "text": "Upgrade."}]},
    )
    listed = client.get(f"/api/v1/cases/{case['ref']}/requests", headers=eng).json()["items"]
    assert [r["state"] for r in listed if r["id"] == request["id"]] == ["cancelled"]


def test_overdue_requests_get_one_reminder_per_interval(
    client, login, database, clock, case
) -> None:
    from datetime import timedelta

    from critdesk.request.service import remind_overdue

    ask(
        client,
        login(ENG1),
        case["ref"],
        kind="question",
        message="?",
        due_at="2026-11-25T12:00:00Z",
    )
    every = timedelta(hours=24)
    with database.session() as session:
        assert remind_overdue(db=session, now=clock.advance(hours=1), every=every) == 0
    with database.session() as session:
        assert remind_overdue(db=session, now=clock.advance(hours=2), every=every) == 1
    with database.session() as session:
        assert remind_overdue(db=session, now=clock.advance(hours=1), every=every) == 0
    with database.session() as session:
        assert remind_overdue(db=session, now=clock.advance(hours=24), every=every) == 1
    listed = client.get(f"/api/v1/cases/{case['ref']}/requests", headers=login(ALICE)).json()
    assert listed["items"][0]["reminders_sent"] == 2
    assert listed["items"][0]["overdue"] is True
