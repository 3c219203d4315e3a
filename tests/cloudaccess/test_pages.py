"""Cloud access on the case page: opened, used and revoked on a cloud environment, visible to the
customer's admin; on-premises and Gateway cases explain why there is none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.auth.test_pages import open_web_session
from tests.case.test_api import ALICE, BOB, CAROL, ENG1
from tests.case.test_pages import CONTOSO_SLOW, NORTHWIND_OUTAGE, flash

REF = NORTHWIND_OUTAGE
ENG2 = "eng2@vendor.example"
WHY = "Read the connection pool metrics of the claims runtime."


@pytest.fixture
def browse(client: Any, database: Any, clock: Any, demo: None) -> Callable[[str], str]:
    return lambda email: open_web_session(client, database, clock, email)


def post(client: Any, path: str, token: str, ref: str = REF, **fields: Any) -> str:
    response = client.post(path, data={"csrf_token": token} | fields, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/cases/{ref}#cloud-access"
    return str(client.get(response.headers["location"]).text)


def open_access(client: Any, token: str, ref: str = REF, **fields: str) -> str:
    body = {"justification": WHY, "minutes": "60"} | fields
    return post(client, f"/cases/{ref}/cloud-access", token, ref=ref, **body)


def accesses(client: Any, login: Any, ref: str = REF) -> list[dict[str, Any]]:
    return client.get(f"/api/v1/cases/{ref}/cloud-access", headers=login(ENG1)).json()


def test_an_engineer_opens_uses_and_the_customers_admin_revokes(
    client, login, clock, browse
) -> None:
    token = browse(ENG1)
    page = open_access(client, token)
    assert flash(page) == (
        "success",
        "Cloud access to nw-prod open for 60 minutes (until 11:00 GMT); every use is audited.",
    )
    (access,) = accesses(client, login)
    assert (access["status"], access["expires_at"]) == ("active", "2026-11-25T11:00:00Z")
    assert 'data-expires="2026-11-25T11:00:00Z"' in page and "expires in 1 h" in page
    page = post(client, f"/cases/{REF}/cloud-access/{access['id']}/use", token, note="Pool metrics")
    assert flash(page) == ("success", "Use 1 recorded on the audit trail.")
    assert "1 use<" in page
    clock.advance(minutes=10)
    admin = browse(ALICE)
    customer = client.get(f"/cases/{REF}").text
    assert WHY in customer and f'/cloud-access/{access["id"]}/revoke"' in customer
    assert f'/cloud-access/{access["id"]}/use"' not in customer
    page = post(client, f"/cases/{REF}/cloud-access/{access['id']}/revoke", admin)
    assert flash(page) == ("success", "Cloud access revoked.")
    assert accesses(client, login)[0]["status"] == "revoked"


def test_only_the_engineer_holding_the_access_records_a_use(client, login, browse) -> None:
    open_access(client, browse(ENG1))
    (access,) = accesses(client, login)
    token = browse(ENG2)
    page = client.get(f"/cases/{REF}").text
    assert f'/cloud-access/{access["id"]}/use"' not in page
    refused = post(client, f"/cases/{REF}/cloud-access/{access['id']}/use", token, note="Me too")
    assert flash(refused) == ("error", "Only the engineer who opened the access may use it.")
    assert accesses(client, login)[0]["uses"] == 0


def test_an_expired_access_can_no_longer_be_used(client, login, clock, browse) -> None:
    token = browse(ENG1)
    open_access(client, token, minutes="15")
    (access,) = accesses(client, login)
    clock.advance(minutes=16)
    page = client.get(f"/cases/{REF}").text
    assert "access-status-expired" in page and "data-expires" not in page
    refused = post(client, f"/cases/{REF}/cloud-access/{access['id']}/use", token, note="Late")
    assert flash(refused) == ("error", "This cloud access is expired.")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"justification": "Look"}, "Justify the access in a sentence."),
        ({"minutes": "600"}, "Access lasts between 5 and 480 minutes."),
        ({"minutes": "soon"}, "Choose how long the access lasts."),
    ],
)
def test_an_access_the_desk_refuses_is_a_message(client, login, browse, fields, message) -> None:
    page = open_access(client, browse(ENG1), **fields)
    assert flash(page) == ("error", message)
    assert accesses(client, login) == []


def test_an_on_premises_case_explains_why_engineers_never_log_in(client, login, browse) -> None:
    token = browse(ENG1)
    page = client.get(f"/cases/{CONTOSO_SLOW}").text
    assert "ch-prod is a on-premises deployment: engineers never log into the customer" in page
    assert f'action="/cases/{CONTOSO_SLOW}/cloud-access"' not in page
    refused = open_access(client, token, ref=CONTOSO_SLOW)
    kind, text = flash(refused)  # type: ignore[misc]
    assert kind == "error" and "Ask the customer instead with an info request" in text
    browse(CAROL)
    assert "engineers never log into the customer" in client.get(f"/cases/{CONTOSO_SLOW}").text


def test_a_plain_contact_neither_sees_nor_revokes_cloud_access(client, login, browse) -> None:
    open_access(client, browse(ENG1))
    (access,) = accesses(client, login)
    token = browse(BOB)
    page = client.get(f"/cases/{REF}").text
    # The panel is the admin's (the timeline still says that access was opened).
    assert 'id="cloud-access"' not in page and 'href="#cloud-access"' not in page
    refused = post(client, f"/cases/{REF}/cloud-access/{access['id']}/revoke", token)
    assert flash(refused) == ("error", "Your organisation&#39;s admin may revoke access.")
    refused = open_access(client, token)
    assert flash(refused) == ("error", "Only engineers and leads open cloud access.")
    assert accesses(client, login)[0]["status"] == "active"


def test_another_organisations_case_is_not_found(client, login, browse) -> None:
    open_access(client, browse(ENG1))
    (access,) = accesses(client, login)
    token = browse(CAROL)
    for path in (
        f"/cases/{REF}/cloud-access",
        f"/cases/{REF}/cloud-access/{access['id']}/revoke",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 404


def test_cloud_access_forms_need_the_session_token(client, login, browse) -> None:
    browse(ENG1)
    response = client.post(f"/cases/{REF}/cloud-access", data={"justification": WHY})
    assert response.status_code == 403
    assert accesses(client, login) == []
