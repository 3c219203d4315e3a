"""The access log over the API: staff reads and downloads of an organisation's cases are on
it, visible to that organisation's admin only; views are recorded once per window."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from critdesk.audit import access
from critdesk.audit.models import AuditEvent
from critdesk.auth.models import User
from critdesk.case.service import get_case
from critdesk.web import encode_cursor
from tests.attachment.conftest import upload
from tests.case.test_actions import act
from tests.case.test_api import ALICE, AM, BOB, CAROL, ENG1, LEAD, report

ADMIN = "admin@vendor.example"
WHY = "Read the Cloud runtime logs for the 503s."


@pytest.fixture
def ref(client, login) -> str:
    return str(report(client, login(ALICE))["ref"])  # Northwind, nw-prod (cloud)


def log_of(client: Any, headers: dict[str, str], **params: Any) -> Any:
    return client.get("/api/v1/access-log", headers=headers, params=params)


def entries(client: Any, headers: dict[str, str], **params: Any) -> list[tuple[str, ...]]:
    response = log_of(client, headers, **params)
    assert response.status_code == 200, response.text
    return [
        (item["who"]["name"], item["action"], item["case"], item["file"] or "")
        for item in response.json()["items"]
    ]


def view(client: Any, headers: dict[str, str], ref: str) -> None:
    assert client.get(f"/api/v1/cases/{ref}", headers=headers).status_code == 200


def organisation_id(client: Any, headers: dict[str, str]) -> int:
    return int(client.get("/api/v1/me", headers=headers).json()["organisation"]["id"])


def test_staff_views_and_downloads_show_on_the_customers_access_log(client, login, ref) -> None:
    file_id = upload(client, login(BOB), ref, name="server.log").json()["id"]
    view(client, login(ENG1), ref)
    got = client.get(f"/api/v1/cases/{ref}/attachments/{file_id}", headers=login(ENG1))
    assert got.status_code == 200
    analysis = client.get(
        f"/api/v1/cases/{ref}/attachments/{file_id}/analysis", headers=login(LEAD)
    )
    assert analysis.status_code == 200
    response = log_of(client, login(ALICE))
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [(i["who"], i["action"], i["case"], i["file"]) for i in body["items"]] == [
        ({"name": "Lee Lead", "role": "lead"}, "log_analysis.viewed", ref, "server.log"),
        ({"name": "Eli Engineer", "role": "engineer"}, "attachment.downloaded", ref, "server.log"),
        ({"name": "Eli Engineer", "role": "engineer"}, "case.viewed", ref, None),
    ]
    assert body["items"][0]["at"] == "2026-11-25T10:00:00Z"


def test_the_customers_own_reads_are_not_on_it(client, login, ref) -> None:
    file_id = upload(client, login(BOB), ref).json()["id"]
    for who in (ALICE, BOB):
        view(client, login(who), ref)
        client.get(f"/api/v1/cases/{ref}/attachments/{file_id}", headers=login(who))
    assert entries(client, login(ALICE)) == []


def test_views_of_one_case_by_one_person_are_recorded_once_per_window(
    client, login, clock, ref, database
) -> None:
    eng = login(ENG1)
    for _ in range(5):
        view(client, eng, ref)
    clock.advance(minutes=14)
    view(client, eng, ref)
    assert len(entries(client, login(ALICE))) == 1
    clock.advance(minutes=2)  # 16 minutes after the recorded view
    view(client, eng, ref)
    view(client, login(LEAD), ref)  # someone else: recorded at once
    assert [e[0] for e in entries(client, login(ALICE))] == [
        "Lee Lead",
        "Eli Engineer",
        "Eli Engineer",
    ]
    with database.session(read_only=True) as db:
        count = db.scalar(
            select(func.count()).where(AuditEvent.action == "case.viewed")  # type: ignore[arg-type]
        )
    assert count == 3


def test_cloud_access_opened_and_used_is_on_it(client, login, ref) -> None:
    eng = login(ENG1)
    act(client, eng, ref, "start_investigation")
    opened = client.post(
        f"/api/v1/cases/{ref}/cloud-access", headers=eng, json={"justification": WHY, "minutes": 30}
    )
    assert opened.status_code == 201, opened.text
    used = client.post(
        f"/api/v1/cases/{ref}/cloud-access/{opened.json()['id']}/use",
        headers=eng,
        json={"note": "pool metrics"},
    )
    assert used.status_code == 200
    actions = [e[1] for e in entries(client, login(ALICE))]
    assert actions[:2] == ["cloud_access.used", "cloud_access.opened"]


def test_another_organisations_admin_never_sees_it(client, login, ref) -> None:
    view(client, login(ENG1), ref)
    carol = login(CAROL)
    assert entries(client, carol) == []
    northwind = organisation_id(client, login(ALICE))
    refused = log_of(client, carol, organisation=northwind)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    assert entries(client, carol, case=ref) == []


def test_a_customer_and_the_engineers_are_refused(client, login) -> None:
    for who, code in ((BOB, "customer_admin_only"), (ENG1, "admins_only"), (AM, "admins_only")):
        response = log_of(client, login(who))
        assert response.status_code == 403, who
        assert response.json()["error"]["code"] == code


def test_the_vendors_admin_reads_any_organisations_log(client, login, ref) -> None:
    view(client, login(ENG1), ref)
    carol_ref = report(client, login(CAROL), env="ch-prod")["ref"]
    view(client, login(LEAD), carol_ref)
    admin = login(ADMIN)
    northwind = organisation_id(client, login(ALICE))
    assert entries(client, admin, organisation=northwind) == [
        ("Eli Engineer", "case.viewed", ref, "")
    ]
    assert {e[2] for e in entries(client, admin)} == {ref, carol_ref}
    assert log_of(client, admin, organisation=99_999).status_code == 404


def test_the_log_filters_by_case_and_time_and_pages(client, login, clock, ref) -> None:
    other = report(client, login(BOB), title="Claims export is slow")["ref"]
    eng = login(ENG1)
    view(client, eng, ref)
    clock.advance(hours=2)
    view(client, eng, other)
    clock.advance(hours=2)
    view(client, eng, ref)
    alice = login(ALICE)
    assert [e[2] for e in entries(client, alice, case=ref)] == [ref, ref]
    assert [e[2] for e in entries(client, alice, case=ref.lower())] == [ref, ref]
    window = {"from": "2026-11-25T11:00:00Z", "to": "2026-11-25T13:00:00"}
    assert [e[2] for e in entries(client, alice, **window)] == [other]
    first = log_of(client, alice, limit=2).json()
    rest = log_of(client, alice, limit=2, cursor=first["next_cursor"]).json()
    assert [i["case"] for i in first["items"] + rest["items"]] == [ref, other, ref]
    assert rest["next_cursor"] is None
    huge = encode_cursor(10**30)
    for bad in (
        {"case": "nonsense"},
        {"from": "yesterday"},
        {"to": "9999-12-31T23:59:59-23:59"},
        {"limit": 0},
        {"cursor": "!!"},
        {"cursor": huge},
        {"organisation": 2**63},
    ):
        response = log_of(client, alice, **bad)
        assert response.status_code == 422, bad


def test_a_failing_access_record_never_fails_the_read(
    client, login, ref, monkeypatch, caplog
) -> None:
    def busy(**_kwargs: Any) -> bool:
        raise OperationalError("INSERT", None, Exception("database is locked"))

    monkeypatch.setattr(access, "record_view", busy)
    response = client.get(f"/api/v1/cases/{ref}", headers=login(ENG1))
    assert response.status_code == 200
    assert "not recorded (OperationalError)" in caplog.text
    assert entries(client, login(ALICE)) == []


def test_two_processes_recording_the_same_view_record_it_once(
    client, login, ref, database, clock
) -> None:
    from datetime import timedelta

    login(ENG1)
    with database.session() as first, database.session(read_only=True) as reader:
        engineer = reader.scalar(select(User).where(User.email == ENG1))
        case = get_case(db=reader, viewer=engineer, ref=ref)
        window = timedelta(minutes=15)
        recorded = access.record_view(
            db=first, viewer=engineer, case=case, action="case.viewed", now=clock.now, window=window
        )
    with database.session() as second:
        again = access.record_view(
            db=second,
            viewer=engineer,
            case=case,
            action="case.viewed",
            now=clock.now,
            window=window,
        )
    assert (recorded, again) == (True, False)
