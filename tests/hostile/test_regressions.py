"""Inputs schemathesis found that once broke a response's contract, pinned as plain tests."""

from __future__ import annotations

import base64

from sqlalchemy import update

from critdesk.organisation.models import Organisation
from tests.bug.test_api import file_bug
from tests.case.test_api import ALICE, AM, CAROL, ENG1, report


def test_a_body_that_is_not_utf8_is_invalid_input_not_a_bare_400(client, login) -> None:
    response = client.post(
        "/api/v1/cases",
        headers=login(ALICE) | {"Content-Type": "application/json"},
        content=b"\x1fo\xff\xfe\xec\x98\x8e",
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


BIG = 2**70  # more than any integer column holds


def test_ids_beyond_what_the_database_holds_are_invalid_input(client, login) -> None:
    eng, alice = login(ENG1), login(ALICE)
    ref = report(client, alice)["ref"]
    client.post(f"/api/v1/cases/{ref}/actions/start_investigation", headers=eng, json={})
    request = client.post(
        f"/api/v1/cases/{ref}/requests", headers=eng, json={"kind": "question", "message": "?"}
    ).json()
    attempts = [
        ("GET", f"/api/v1/organisations/{BIG}/environments", None, eng),
        ("GET", f"/api/v1/cases/{ref}/requests/{BIG}", None, eng),
        ("POST", f"/api/v1/cases/{ref}/screen-shares/{BIG}/cancel", None, eng),
        ("POST", f"/api/v1/cases/{ref}/cloud-access/{BIG}/revoke", None, eng),
        ("POST", f"/api/v1/notifications/{BIG}/read", None, alice),
        ("GET", f"/api/v1/cases?organisation_id={BIG}", None, eng),
        (
            "POST",
            f"/api/v1/cases/{ref}/requests/{request['id']}/answer",
            {"message": "10.4", "attachment_ids": [BIG]},
            alice,
        ),
        (
            "PUT",
            f"/api/v1/cases/{ref}/root-cause",
            {
                "category": "configuration",
                "summary": "x",
                "product_defect": False,
                "evidence": [{"type": "comment", "id": BIG}],
            },
            eng,
        ),
    ]
    for method, url, body, headers in attempts:
        response = client.request(method, url, headers=headers, json=body)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["error"]["code"] == "invalid_input"


def test_a_cursor_beyond_any_id_is_refused(client, login) -> None:
    cursor = base64.urlsafe_b64encode(str(BIG).encode()).decode().rstrip("=")
    response = client.get(f"/api/v1/cases?cursor={cursor}", headers=login(ALICE))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_a_bug_field_every_report_has_cannot_be_nulled(client, login) -> None:
    eng = login(ENG1)
    bug = file_bug(client, eng)
    for field in ("description", "product", "title", "severity", "environment"):
        response = client.patch(f"/api/v1/bugs/{bug['key']}", headers=eng, json={field: None})
        assert response.status_code == 422, (field, response.text)
    assert client.get(f"/api/v1/bugs/{bug['key']}", headers=eng).json() == bug
    ref = report(client, login(ALICE))["ref"]
    created = client.post(f"/api/v1/cases/{ref}/bugs/new", headers=eng, json={"product": None})
    assert created.status_code == 422
    # Optional fields may still be cleared.
    cleared = client.patch(f"/api/v1/bugs/{bug['key']}", headers=eng, json={"component": None})
    assert cleared.status_code == 200 and cleared.json()["component"] is None


def test_an_account_manager_sees_only_the_organisations_they_manage(
    client, login, database
) -> None:
    contoso = client.get("/api/v1/me", headers=login(CAROL)).json()["organisation"]["id"]
    with database.session() as session:
        session.execute(
            update(Organisation).where(Organisation.id == contoso).values(account_manager_id=None)
        )
    am = login(AM)
    names = [o["name"] for o in client.get("/api/v1/organisations", headers=am).json()]
    assert "Contoso Health" not in names and "Northwind Insurance" in names
    for path in ("", "/environments", "/users"):
        response = client.get(f"/api/v1/organisations/{contoso}{path}", headers=am)
        assert response.status_code == 404, path


def test_a_package_field_every_package_has_cannot_be_nulled(client, login) -> None:
    admin = login("admin@vendor.example")
    before = client.get("/api/v1/packages", headers=admin).json()
    for field in ("name", "desk_access", "calendar", "channels", "sla_targets", "queue_weight"):
        response = client.patch("/api/v1/packages/essential", headers=admin, json={field: None})
        assert response.status_code == 422, (field, response.text)
    huge = {"sla_targets": {s: 10**30 for s in ("S1", "S2", "S3", "S4")}}
    assert client.patch("/api/v1/packages/premium", headers=admin, json=huge).status_code == 422
    assert client.get("/api/v1/packages", headers=admin).json() == before
    cleared = client.patch("/api/v1/packages/premium", headers=admin, json={"phone_number": None})
    assert cleared.status_code == 200 and cleared.json()["phone_number"] is None


def test_a_case_ref_of_non_ascii_digits_is_absent_not_an_error(client, login) -> None:
    response = client.get("/api/v1/cases/PCH-%C2%B3", headers=login(ENG1))
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"
