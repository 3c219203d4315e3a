"""Cloud access: cloud only, time-boxed, justified, audited, visible to the customer's admin."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from critdesk.audit.models import AuditEvent
from tests.case.test_actions import act
from tests.case.test_api import ALICE, BOB, CAROL, DAN, ENG1, report

ENG2 = "eng2@vendor.example"


@pytest.fixture
def case(client, login) -> str:
    ref = report(client, login(ALICE))["ref"]  # nw-prod: cloud
    act(client, login(ENG1), ref, "start_investigation")
    return ref


def open_access(client, headers, ref, **body):  # type: ignore[no-untyped-def]
    payload = {"justification": "Read the Cloud runtime logs for the 503s.", "minutes": 30} | body
    return client.post(f"/api/v1/cases/{ref}/cloud-access", headers=headers, json=payload)


def audit_actions(database, ref: str) -> list[str]:
    with database.session() as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "cloud_access")
            .order_by(AuditEvent.id)
        ).all()
    return [r.action for r in rows if r.data.get("case") == ref]


def test_an_engineer_opens_uses_and_the_access_expires_by_itself(
    client, login, clock, database, case
) -> None:
    eng = login(ENG1)
    opened = open_access(client, eng, case)
    assert opened.status_code == 201, opened.text
    access = opened.json()
    assert access["status"] == "active"
    assert access["expires_at"] == "2026-11-25T10:30:00Z"
    used = client.post(
        f"/api/v1/cases/{case}/cloud-access/{access['id']}/use",
        headers=eng,
        json={"note": "Opened the runtime log viewer"},
    )
    assert used.json()["uses"] == 1
    clock.advance(minutes=31)
    late = client.post(
        f"/api/v1/cases/{case}/cloud-access/{access['id']}/use",
        headers=eng,
        json={"note": "one more look"},
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "cloud_access_expired"
    from critdesk.cloudaccess.service import record_expiries

    with database.session() as session:
        assert record_expiries(db=session, now=clock.now) == 1
    with database.session() as session:
        assert record_expiries(db=session, now=clock.now) == 0
    assert audit_actions(database, case) == [
        "cloud_access.opened",
        "cloud_access.used",
        "cloud_access.expired",
    ]
    listed = client.get(f"/api/v1/cases/{case}/cloud-access", headers=login(ALICE)).json()
    assert [a["status"] for a in listed] == ["expired"]


def test_on_premises_and_gateway_are_refused_with_the_reason(client, login) -> None:
    eng = login(ENG1)
    for email, env in ((CAROL, "ch-prod"), (DAN, "fr-prod")):
        ref = report(client, login(email), env=env)["ref"]
        act(client, eng, ref, "start_investigation")
        response = open_access(client, eng, ref)
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "not_cloud"
        assert "never log into" in error["message"] and "info request" in error["message"]


def test_the_customer_admin_sees_and_revokes_a_plain_contact_does_not(client, login, case) -> None:
    access = open_access(client, login(ENG1), case).json()
    assert client.get(f"/api/v1/cases/{case}/cloud-access", headers=login(BOB)).status_code == 403
    revoked = client.post(
        f"/api/v1/cases/{case}/cloud-access/{access['id']}/revoke", headers=login(ALICE)
    )
    assert revoked.json()["status"] == "revoked"
    use = client.post(
        f"/api/v1/cases/{case}/cloud-access/{access['id']}/use",
        headers=login(ENG1),
        json={"note": "x"},
    )
    assert use.status_code == 409


def test_only_the_holder_uses_the_access(client, login, case) -> None:
    access = open_access(client, login(ENG1), case).json()
    other = client.post(
        f"/api/v1/cases/{case}/cloud-access/{access['id']}/use",
        headers=login(ENG2),
        json={"note": "x"},
    )
    assert other.status_code == 403


@pytest.mark.parametrize(
    "body",
    [{"justification": "because"}, {"minutes": 2}, {"minutes": 9999}, {"minutes": "30"}],
)
def test_bad_access_requests_are_refused(client, login, case, body) -> None:
    assert open_access(client, login(ENG1), case, **body).status_code == 422


def test_customers_cannot_open_access(client, login, case) -> None:
    assert open_access(client, login(ALICE), case).status_code == 403
