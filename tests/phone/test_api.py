"""Telephone intake over the API and the engineer's page, on every configured database."""

from __future__ import annotations

import re
from typing import Any

from tests.auth.test_pages import open_web_session
from tests.case.test_api import ALICE, CAROL, DAN, ENG1, ERIN, report

CALL = {
    "notes": "Dan says orders stopped reaching the ERP at 09:40; stores cannot fulfil.",
    "title": "Orders stop syncing through the Gateway",
    "breadth": "all_users",
    "end_users_blocked": True,
    "impact": {"app_unavailable": True},
}


def call(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/calls", headers=headers, json=body)


def contacts(client: Any, headers: dict[str, str], q: str) -> Any:
    return client.get("/api/v1/calls/contacts", headers=headers, params={"q": q})


def test_the_caller_is_found_by_number_in_any_form_or_by_name_or_email(client, login) -> None:
    eng = login(ENG1)
    for written in ("+44 161 496 0101", "0161 496 0101", "0044 161-496-0101", "(0161) 4960101"):
        found = contacts(client, eng, written)
        assert found.status_code == 200, found.text
        [alice] = found.json()
        assert alice["email"] == ALICE
        assert alice["organisation"]["name"] == "Northwind Insurance"
        assert alice["phone_channel"] is True and alice["refusal"] is None
    assert {c["email"] for c in contacts(client, eng, "northwind").json()} == {
        ALICE,
        "bob@northwind.example",
    }
    [carol] = contacts(client, eng, "carol contoso").json()
    assert carol["phone_channel"] is False
    assert carol["refusal"] == (
        "your Business package has no telephone channel; it has the web portal and API, e-mail"
    )
    assert contacts(client, eng, "eng1@vendor").json() == []  # staff are not callers


def test_a_call_opens_a_case_with_channel_phone_for_the_caller(client, login) -> None:
    response = call(client, login(ENG1), caller="0117 496 0301", **CALL)
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["created"] is True
    assert case["channel"] == "phone"
    assert case["reporter"]["email"] == DAN
    assert case["environment"]["name"] == "fr-prod"  # Fabrikam's only production environment
    assert case["description"] == CALL["notes"]
    assert case["severity"] == "S1"
    reported, phoned = case["timeline"]
    assert reported["kind"] == "reported" and reported["actor"]["email"] == DAN
    assert reported["data"]["recorded_by"] == ENG1
    assert phoned["kind"] == "phone_call" and phoned["actor"]["email"] == ENG1
    assert phoned["data"]["caller"]["email"] == DAN
    mine = client.get(f"/api/v1/cases/{case['ref']}", headers=login(DAN))
    assert mine.status_code == 200


def test_a_call_about_an_open_case_goes_on_its_timeline(client, login) -> None:
    ref = report(client, login(ALICE))["ref"]
    response = call(
        client, login(ENG1), caller=ALICE, case_ref=ref, notes="Still down; 200 users waiting."
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] is False
    last = client.get(f"/api/v1/cases/{ref}", headers=login(ALICE)).json()["timeline"][-1]
    assert last["kind"] == "phone_call"
    assert last["message"] == "Still down; 200 users waiting."
    assert last["actor"]["email"] == ENG1
    assert last["data"]["caller"] == {"email": ALICE, "name": "Alice Northwind"}


def test_a_package_without_the_phone_channel_is_refused_with_its_channels(client, login) -> None:
    contoso = call(client, login(ENG1), caller="0113 496 0201", **CALL)
    assert contoso.status_code == 403
    assert contoso.json()["error"]["code"] == "channel_not_available"
    assert "it has the web portal and API, e-mail" in contoso.json()["error"]["message"]
    tailspin = call(client, login(ENG1), caller=ERIN, **CALL)
    assert tailspin.status_code == 403
    assert tailspin.json()["error"]["code"] == "no_desk_access"
    assert client.get("/api/v1/cases", headers=login(CAROL)).json()["items"][0]["channel"] != (
        "phone"
    )


def test_unclear_or_out_of_bounds_calls_are_refused(client, login) -> None:
    eng = login(ENG1)
    ref = report(client, login(ALICE))["ref"]
    other = call(client, eng, caller=DAN, case_ref=ref, notes="About Alice's case")
    assert (other.status_code, other.json()["error"]["code"]) == (
        422,
        "case_of_another_organisation",
    )
    ambiguous = call(client, eng, caller="northwind", **CALL)
    assert ambiguous.status_code == 422
    error = ambiguous.json()["error"]
    assert error["code"] == "ambiguous_caller"
    assert {c["email"] for c in error["details"]["candidates"]} == {ALICE, "bob@northwind.example"}
    unknown = call(client, eng, caller="+44 20 0000 0000", **CALL)
    assert unknown.json()["error"]["code"] == "unknown_caller"
    no_answers = call(client, eng, caller=DAN, notes="Something is wrong")
    assert no_answers.json()["error"]["code"] == "title_required"
    assert call(client, login(ALICE), caller=ALICE, **CALL).status_code == 403
    assert contacts(client, login(ALICE), "carol").status_code == 403


def test_a_retried_call_opens_one_case(client, login) -> None:
    headers = login(ENG1) | {"Idempotency-Key": "call-7"}
    first = call(client, headers, caller=DAN, **CALL)
    second = call(client, headers, caller=DAN, **CALL)
    assert first.json()["ref"] == second.json()["ref"]
    assert (first.status_code, second.status_code) == (201, 200)


def test_the_phone_page_finds_the_caller_and_records_the_call(client, database, clock, demo):
    csrf = open_web_session(client, database, clock, ENG1)
    found = client.get("/phone", params={"q": "0117 496 0301"})
    assert found.status_code == 200 and "Dan Fabrikam" in found.text
    caller_id = re.search(r"/phone\?caller_id=(\d+)", found.text).group(1)  # type: ignore[union-attr]
    form = client.get(f"/phone?caller_id={caller_id}").text
    form_key = re.search(r'name="form_key" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    posted = client.post(
        "/phone",
        data={
            "csrf_token": csrf,
            "caller_id": caller_id,
            "form_key": form_key,
            "case_ref": "",
            "notes": CALL["notes"],
            "title": CALL["title"],
            "app_unavailable": "1",
            "breadth": "all_users",
            "end_users_blocked": "yes",
        },
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    ref = posted.headers["location"].rsplit("/", 1)[-1]
    case = client.get(f"/api/v1/cases/{ref}", headers={"X-CSRF-Token": csrf}).json()
    assert (case["channel"], case["reporter"]["email"]) == ("phone", DAN)


def test_the_phone_page_shows_the_refusal_for_a_caller_without_the_channel(
    client, database, clock, demo
) -> None:
    open_web_session(client, database, clock, ALICE)
    assert client.get("/phone").status_code == 403  # customers do not take calls
    open_web_session(client, database, clock, ENG1)
    found = client.get("/phone", params={"q": "carol"}).text
    caller_id = re.search(r"/phone\?caller_id=(\d+)", found).group(1)  # type: ignore[union-attr]
    page = client.get(f"/phone?caller_id={caller_id}").text
    assert "Your Business package has no telephone channel" in page
    assert 'method="post" action="/phone"' not in page
