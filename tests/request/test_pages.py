"""Info requests on the case page: asking with each kind's fields, answering inline (with the
file in the same form), cancelling, and who may do which."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from critdesk.attachment.models import Attachment
from critdesk.request.pages import requests_panel
from tests.auth.test_pages import open_web_session
from tests.case.test_api import ALICE, BOB, CAROL, ENG1
from tests.case.test_pages import NORTHWIND_OUTAGE, case_state, flash

REF = NORTHWIND_OUTAGE
LOG = b"2026-11-25 09:12:03,114 ERROR c.v.runtime.Claims - HTTP 503\n"


@pytest.fixture
def browse(client: Any, database: Any, clock: Any, demo: None) -> Callable[[str], str]:
    return lambda email: open_web_session(client, database, clock, email)


@pytest.fixture
def investigating(client: Any, login: Any) -> str:
    started = client.post(f"/api/v1/cases/{REF}/actions/start_investigation", headers=login(ENG1))
    assert started.status_code == 200, started.text
    return REF


def post(client: Any, path: str, token: str, **fields: Any) -> Any:
    """Posts a page form; returns the page it redirects back to."""
    response = client.post(path, data={"csrf_token": token} | fields, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client.get(response.headers["location"])


def ask(client: Any, token: str, **fields: Any) -> Any:
    return post(client, f"/cases/{REF}/requests", token, **fields)


def requests_of(client: Any, login: Any) -> list[dict[str, Any]]:
    return client.get(f"/api/v1/cases/{REF}/requests", headers=login(ENG1)).json()["items"]


def answer_with_file(
    client: Any, token: str | None, request_id: int, file: tuple[str, bytes], **fields: str
) -> Any:
    data = (
        ({"csrf_token": token} if token is not None else {})
        | {"request_id": str(request_id)}
        | fields
    )
    return client.post(
        f"/cases/{REF}/requests/{request_id}/attachments",
        data=data,
        files={"file": (file[0], file[1], "text/plain")},
        follow_redirects=False,
    )


def stored_files(settings: Any) -> list[Path]:
    root = settings.data_dir / "attachments"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def attachment_count(database: Any) -> int:
    with database.session() as db:
        return int(db.scalar(select(func.count()).select_from(Attachment)) or 0)


# --- asking -------------------------------------------------------------------------------------


def test_an_engineer_asks_for_logs_with_a_window_in_london_time(
    client, login, browse, investigating
) -> None:
    token = browse(ENG1)
    page = ask(
        client,
        token,
        kind="logs",
        message="Please send the runtime logs around the first 503.",
        logs=["Runtime (application server) logs", "Database logs"],
        other_logs="nginx error log\n\n",
        window_start="2026-07-01T09:00",
        window_end="2026-07-01T10:00",
        due_at="2026-11-25T16:00",
    )
    assert flash(page.text) == (
        "success",
        "Log files request sent: the case now waits on the customer.",
    )
    (request,) = requests_of(client, login)
    assert request["details"]["logs"] == [
        "Runtime (application server) logs",
        "Database logs",
        "nginx error log",
    ]
    # Typed in summer time in London: an hour ahead of UTC.
    start = datetime.fromisoformat(request["details"]["window_start"])
    assert start.astimezone(UTC) == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    assert request["due_at"] == "2026-11-25T16:00:00Z"
    assert case_state(client, login, REF)["state"] == "awaiting_customer"
    assert f'id="request-{request["id"]}"' in page.text
    assert "From Wed 01 Jul 2026, 09:00 BST until Wed 01 Jul 2026, 10:00 BST" in page.text


def test_a_request_carries_only_its_kinds_own_fields(client, login, browse, investigating) -> None:
    token = browse(ENG1)
    ask(
        client,
        token,
        kind="test",
        message="Please run this in production.",
        steps="Open the claims portal\n\nSubmit a claim with an attachment\n",
        expected="The claim is saved",
        logs="Database logs",
        artifact_type="project",
    )
    ask(
        client,
        token,
        kind="artifact",
        message="Export it.",
        artifact_type="project",
        artifact_name="Claims",
    )
    test, artifact = requests_of(client, login)
    assert test["details"] == {
        "steps": ["Open the claims portal", "Submit a claim with an attachment"],
        "expected": "The claim is saved",
    }
    assert artifact["details"] == {"artifact_type": "project", "name": "Claims"}
    page = client.get(f"/cases/{REF}").text
    assert '<ol class="steps"><li>Open the claims portal</li>' in page
    assert "Project: <strong>Claims</strong>" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "test", "message": "Try it"}, "A test request lists the steps to perform."),
        ({"kind": "logs", "message": "Logs please"}, "Say which logs you need."),
        ({"kind": "artifact", "message": "Export"}, "Say whether you need an Entity, Project"),
        ({"kind": "question", "message": " "}, "Message: String should have at least 1"),
        ({"kind": "riddle", "message": "?"}, "Kind: Input should be"),
        (
            {"kind": "question", "message": "?", "due_at": "2026-11-25T09:00"},
            "Due_at must be in the future.",
        ),
        (
            {"kind": "question", "message": "?", "due_at": "2027-03-28T01:30"},
            "Due: 28 Mar 01:30 does not exist in Europe/London",
        ),
        (
            {
                "kind": "logs",
                "message": "Logs",
                "logs": "Database logs",
                "window_start": "2026-11-25T10:00",
                "window_end": "2026-11-25T09:00",
            },
            "The log window must start before it ends.",
        ),
    ],
)
def test_a_request_the_desk_refuses_comes_back_as_a_message(
    client, login, browse, investigating, fields, message
) -> None:
    token = browse(ENG1)
    kind, text = flash(ask(client, token, **fields).text)  # type: ignore[misc]
    assert kind == "error" and message in text, text
    assert requests_of(client, login) == []


def test_a_new_case_is_investigated_before_the_customer_is_asked(client, login, browse) -> None:
    token = browse(ENG1)
    kind, text = flash(ask(client, token, kind="question", message="Which version?").text)  # type: ignore[misc]
    assert (kind, text) == ("error", "Start investigating before asking the customer.")


# --- answering ---------------------------------------------------------------------------------


def test_the_customer_answers_a_test_with_its_result(client, login, browse, investigating) -> None:
    token = browse(ENG1)
    ask(client, token, kind="test", message="Run it", steps="Submit a claim")
    (request,) = requests_of(client, login)
    token = browse(BOB)
    page = client.get(f"/cases/{REF}").text
    assert f'action="/cases/{REF}/requests/{request["id"]}/answer"' in page
    assert (
        'name="result" value="pass"' in page
        and "enctype" not in page.split('id="requests"')[1].split("</article>")[0]
    )
    page = post(
        client,
        f"/cases/{REF}/requests/{request['id']}/answer",
        token,
        message="It failed after 30 s.",
        result="fail",
    ).text
    assert flash(page) == ("success", "Answer sent. The engineer has been told.")
    assert '<span class="chip result result-fail">Test failed</span>' in page
    (answered,) = requests_of(client, login)
    assert (answered["state"], answered["result"], answered["answered_by"]["email"]) == (
        "answered",
        "fail",
        BOB,
    )
    assert case_state(client, login, REF)["state"] == "investigating"


def test_a_test_answer_needs_its_result(client, login, browse, investigating) -> None:
    ask(client, browse(ENG1), kind="test", message="Run it", steps="Submit a claim")
    (request,) = requests_of(client, login)
    token = browse(ALICE)
    page = post(client, f"/cases/{REF}/requests/{request['id']}/answer", token, message="Done")
    assert flash(page.text) == ("error", "A test answer says whether it passed or failed.")
    assert requests_of(client, login)[0]["state"] == "open"


def test_the_customer_answers_a_logs_request_with_the_file_in_the_same_form(
    client, login, browse, investigating, settings
) -> None:
    ask(client, browse(ENG1), kind="logs", message="Logs please", logs="Database logs")
    (request,) = requests_of(client, login)
    token = browse(ALICE)
    page = client.get(f"/cases/{REF}").text
    form_action = f'action="/cases/{REF}/requests/{request["id"]}/attachments"'
    assert f'{form_action} enctype="multipart/form-data"' in page
    response = answer_with_file(
        client, token, request["id"], ("runtime.log", LOG), message="Here it is."
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/cases/{REF}#request-{request['id']}"
    page = client.get(response.headers["location"]).text
    assert flash(page) == ("success", "Answer sent with 1 file. The engineer has been told.")
    (answered,) = requests_of(client, login)
    assert answered["state"] == "answered" and answered["answer"] == "Here it is."
    (file_id,) = answered["attachment_ids"]
    files = client.get(f"/api/v1/cases/{REF}/attachments", headers=login(ENG1)).json()["items"]
    assert [(f["id"], f["name"], f["request_id"]) for f in files] == [
        (file_id, "runtime.log", request["id"])
    ]
    assert 'class="file-chip" download>runtime.log</a>' in page
    assert len(stored_files(settings)) == 1
    assert case_state(client, login, REF)["state"] == "investigating"


def test_a_logs_answer_without_a_file_is_an_answer_all_the_same(
    client, login, browse, investigating, settings
) -> None:
    ask(client, browse(ENG1), kind="logs", message="Logs please", logs="Database logs")
    (request,) = requests_of(client, login)
    token = browse(ALICE)
    response = answer_with_file(
        client, token, request["id"], ("", b""), message="We keep no logs that old."
    )
    assert flash(client.get(response.headers["location"]).text) == (
        "success",
        "Answer sent. The engineer has been told.",
    )
    (answered,) = requests_of(client, login)
    assert (answered["state"], answered["attachment_ids"]) == ("answered", [])
    assert stored_files(settings) == []


def test_a_refused_answer_leaves_no_file_behind(
    client, login, browse, investigating, settings, database
) -> None:
    token = browse(ENG1)
    ask(client, token, kind="logs", message="Logs please", logs="Database logs")
    ask(client, token, kind="logs", message="And these", logs="Gateway logs")
    first, second = requests_of(client, login)
    post(client, f"/cases/{REF}/requests/{first['id']}/cancel", token)
    token = browse(ALICE)
    cancelled = answer_with_file(client, token, first["id"], ("a.log", LOG), message="Here")
    assert (
        "is cancelled; files attach to open requests only"
        in flash(client.get(cancelled.headers["location"]).text)[1]
    )  # type: ignore[index]
    wordless = answer_with_file(client, token, second["id"], ("a.log", LOG), message=" ")
    assert flash(client.get(wordless.headers["location"]).text) == (
        "error",
        "Write a short answer to go with the file.",
    )
    assert stored_files(settings) == [] and attachment_count(database) == 0
    assert requests_of(client, login)[1]["state"] == "open"


def test_an_engineer_records_an_answer_given_by_phone_and_cancels_another(
    client, login, browse, investigating
) -> None:
    token = browse(ENG1)
    ask(client, token, kind="question", message="Which version?")
    ask(client, token, kind="question", message="Since when?")
    first, second = requests_of(client, login)
    page = client.get(f"/cases/{REF}").text
    assert "Record the customer's answer (given by phone or e-mail)" in page
    post(client, f"/cases/{REF}/requests/{first['id']}/answer", token, message="10.4.2 (phone)")
    page = post(client, f"/cases/{REF}/requests/{second['id']}/cancel", token).text
    assert flash(page) == ("success", "Request cancelled.")
    states = [(r["state"], r["answered_by"]) for r in requests_of(client, login)]
    assert states == [("answered", {"email": ENG1, "name": "Eli Engineer"}), ("cancelled", None)]
    again = post(client, f"/cases/{REF}/requests/{second['id']}/cancel", token).text
    assert flash(again) == ("error", "This request is already cancelled.")


# --- who may do what ---------------------------------------------------------------------------


def test_customers_have_no_ask_or_cancel_forms_and_cannot_use_them(
    client, login, browse, investigating
) -> None:
    ask(client, browse(ENG1), kind="question", message="Which version?")
    (request,) = requests_of(client, login)
    token = browse(ALICE)
    page = client.get(f"/cases/{REF}").text
    assert f'action="/cases/{REF}/requests"' not in page
    assert f"/requests/{request['id']}/cancel" not in page
    refused = ask(client, token, kind="question", message="Can I ask you?").text
    assert flash(refused) == ("error", "Only engineers and leads open info requests.")
    cancel = post(client, f"/cases/{REF}/requests/{request['id']}/cancel", token).text
    assert flash(cancel) == ("error", "Only engineers and leads cancel info requests.")
    assert [r["state"] for r in requests_of(client, login)] == ["open"]


def test_another_organisations_case_is_not_found_for_every_request_form(
    client, login, browse, investigating, settings
) -> None:
    ask(client, browse(ENG1), kind="logs", message="Logs please", logs="Database logs")
    (request,) = requests_of(client, login)
    token = browse(CAROL)
    base = f"/cases/{REF}/requests"
    for path, data in (
        (base, {"kind": "question", "message": "?"}),
        (f"{base}/{request['id']}/answer", {"message": "mine"}),
        (f"{base}/{request['id']}/cancel", {}),
    ):
        response = client.post(path, data={"csrf_token": token} | data)
        assert response.status_code == 404, path
        assert "Not found" in response.text
    upload = answer_with_file(client, token, request["id"], ("a.log", LOG), message="x")
    assert upload.status_code == 404
    assert stored_files(settings) == []


def test_request_forms_need_the_session_token(
    client, login, browse, investigating, settings
) -> None:
    token = browse(ENG1)
    ask(client, token, kind="logs", message="Logs please", logs="Database logs")
    (request,) = requests_of(client, login)
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post(f"/cases/{REF}/requests", data=data | {"kind": "question"})
        assert response.status_code == 403
    browse(ALICE)
    for forged in (None, "forged"):
        response = answer_with_file(client, forged, request["id"], ("a.log", LOG), message="x")
        assert response.status_code == 403
        assert "out of date or came from elsewhere" in response.text
    assert stored_files(settings) == [] and len(requests_of(client, login)) == 1


def test_the_panel_lists_open_requests_first_soonest_due_on_top(
    client, login, clock, database, browse, investigating, settings
) -> None:
    from critdesk.auth.models import User
    from critdesk.case import service as cases

    token = browse(ENG1)
    ask(client, token, kind="question", message="Later", due_at="2026-11-26T10:00")
    ask(client, token, kind="question", message="Sooner", due_at="2026-11-25T12:00")
    ask(client, token, kind="question", message="Done")
    done = requests_of(client, login)[2]
    post(client, f"/cases/{REF}/requests/{done['id']}/answer", token, message="ok")
    clock.advance(hours=3)
    with database.session() as db:
        viewer = db.scalar(select(User).where(User.email == ALICE))
        case = cases.get_case(db=db, viewer=viewer, ref=REF)
        panel = requests_panel(
            db=db, viewer=viewer, case=case, now=clock.now, files={}, settings=settings
        )
    assert [(r["message"], r["overdue"]) for r in panel["items"]] == [
        ("Sooner", True),
        ("Later", False),
        ("Done", False),
    ]
    assert (panel["open_count"], panel["overdue_count"], panel["can_ask"]) == (2, 1, False)
    page = client.get(f"/cases/{REF}").text
    assert "Overdue by 1 h" in page
