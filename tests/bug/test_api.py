"""Bug reports over the API: completeness, linking across organisations, closing the loop."""

from __future__ import annotations

from typing import Any

import pytest

from tests.case.test_actions import act
from tests.case.test_api import ALICE, BOB, CAROL, ENG1, LEAD, report

COMPLETE: dict[str, Any] = {
    "product": "Platform",
    "component": "Runtime",
    "affected_versions": ["10.4.2"],
    "title": "Connection pool leaks after failed REST calls",
    "description": "Each failed outbound REST call leaves a connection checked out.",
    "steps_to_reproduce": "1. Call a REST service that times out 50 times\n2. Watch the pool",
    "expected": "Connections return to the pool",
    "actual": "The pool is exhausted",
    "environment": {
        "deployment_type": "cloud",
        "product_version": "10.4.2",
        "database": "PostgreSQL 15",
    },
    "severity": "S1",
}


def file_bug(client, headers, **overrides):  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/bugs", headers=headers, json=COMPLETE | overrides)
    assert response.status_code == 201, response.text
    return response.json()


def test_an_incomplete_report_says_exactly_what_is_missing(client, login) -> None:
    body = COMPLETE | {"expected": None, "affected_versions": []}
    response = client.post("/api/v1/bugs", headers=login(ENG1), json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "incomplete"
    assert error["details"]["missing"] == ["expected behaviour", "at least one affected version"]
    draft = client.post("/api/v1/bugs", headers=login(ENG1), json=body | {"submit": False})
    assert draft.status_code == 201
    assert draft.json()["missing"] == ["expected behaviour", "at least one affected version"]
    assert draft.json()["fix_target"]["status"] == "not_applicable"
    key = draft.json()["key"]
    refused = client.post(f"/api/v1/bugs/{key}/submit", headers=login(ENG1))
    assert refused.status_code == 422
    client.patch(
        f"/api/v1/bugs/{key}",
        headers=login(ENG1),
        json={"expected": "Connections return", "affected_versions": ["10.4.2"]},
    )
    submitted = client.post(f"/api/v1/bugs/{key}/submit", headers=login(ENG1))
    assert submitted.status_code == 200
    assert submitted.json()["fix_target"]["due_at"] == "2026-12-02T10:00:00Z"


def test_create_from_a_case_prefills_and_links(client, login) -> None:
    ref = report(client, login(ALICE))["ref"]
    eng = login(ENG1)
    act(client, eng, ref, "start_investigation")
    draft = client.get(f"/api/v1/cases/{ref}/bugs/draft", headers=eng).json()
    assert draft["title"] == "Checkout fails for everyone"
    assert draft["environment"]["deployment_type"] == "cloud"
    assert draft["affected_versions"] == ["10.4.2"]
    assert draft["severity"] == "S1"
    created = client.post(
        f"/api/v1/cases/{ref}/bugs/new",
        headers=eng,
        json={
            "steps_to_reproduce": "1. Check out",
            "expected": "Order placed",
        },
    )
    assert created.status_code == 201, created.text
    bug = created.json()
    assert [c["ref"] for c in bug["cases"]] == [ref]
    timeline = client.get(f"/api/v1/cases/{ref}", headers=login(BOB)).json()["timeline"]
    assert timeline[-1]["kind"] == "bug_linked"


def test_a_customer_sees_public_fields_and_only_its_own_cases(client, login) -> None:
    eng = login(ENG1)
    bug = file_bug(client, eng)
    northwind = report(client, login(ALICE))["ref"]
    contoso = report(client, login(CAROL), env="ch-prod")["ref"]
    for ref in (northwind, contoso):
        assert (
            client.post(
                f"/api/v1/cases/{ref}/bugs", headers=eng, json={"bug": bug["key"]}
            ).status_code
            == 201
        )
    seen = client.get(f"/api/v1/bugs/{bug['key']}", headers=login(CAROL)).json()
    assert [c["ref"] for c in seen["cases"]] == [contoso]
    assert "steps_to_reproduce" not in seen and "description" not in seen
    assert all(c["organisation"] == "Contoso Health" for c in seen["cases"])
    staff = client.get(f"/api/v1/bugs/{bug['key']}", headers=eng).json()
    assert {c["ref"] for c in staff["cases"]} == {northwind, contoso}


def test_internal_bugs_stay_hidden_from_unlinked_customers(client, login) -> None:
    bug = file_bug(client, login(ENG1))
    assert client.get(f"/api/v1/bugs/{bug['key']}", headers=login(CAROL)).status_code == 404
    assert client.get("/api/v1/bugs", headers=login(CAROL)).json()["items"] == []
    public = file_bug(client, login(ENG1), public=True, title="Public known issue in export")
    listed = client.get("/api/v1/bugs", headers=login(CAROL)).json()["items"]
    assert [b["key"] for b in listed] == [public["key"]]


def test_fixing_tells_every_linked_case_the_fix_version(client, login) -> None:
    eng = login(ENG1)
    bug = file_bug(client, eng)
    refs = [report(client, login(ALICE))["ref"], report(client, login(CAROL), env="ch-prod")["ref"]]
    for ref in refs:
        client.post(f"/api/v1/cases/{ref}/bugs", headers=eng, json={"bug": bug["key"]})
    no_version = client.post(
        f"/api/v1/bugs/{bug['key']}/state", headers=eng, json={"state": "fixed"}
    )
    assert no_version.status_code == 409
    client.post(f"/api/v1/bugs/{bug['key']}/state", headers=eng, json={"state": "in_progress"})
    fixed = client.post(
        f"/api/v1/bugs/{bug['key']}/state",
        headers=eng,
        json={"state": "fixed", "fix_version": "10.4.3"},
    )
    assert fixed.json()["state"] == "fixed"
    assert fixed.json()["fix_target"]["status"] == "met"
    for ref, who in zip(refs, (ALICE, CAROL), strict=True):
        event = client.get(f"/api/v1/cases/{ref}", headers=login(who)).json()["timeline"][-1]
        assert event["kind"] == "bug_fixed"
        assert event["data"]["fix_version"] == "10.4.3"
        assert "10.4.3" in event["message"]


def test_a_duplicate_names_an_existing_other_bug(client, login) -> None:
    eng = login(ENG1)
    first, second = file_bug(client, eng), file_bug(client, eng)
    url = f"/api/v1/bugs/{second['key']}/state"
    assert client.post(url, headers=eng, json={"state": "duplicate"}).status_code == 409
    assert (
        client.post(
            url, headers=eng, json={"state": "duplicate", "duplicate_of": second["key"]}
        ).status_code
        == 422
    )
    done = client.post(url, headers=eng, json={"state": "duplicate", "duplicate_of": first["key"]})
    assert done.json()["duplicate_of"] == first["key"]


def test_unlinking_and_linking_twice(client, login) -> None:
    eng = login(ENG1)
    bug = file_bug(client, eng)
    ref = report(client, login(ALICE))["ref"]
    url = f"/api/v1/cases/{ref}/bugs"
    assert client.post(url, headers=eng, json={"bug": bug["key"]}).status_code == 201
    assert client.post(url, headers=eng, json={"bug": bug["key"]}).status_code == 409
    assert client.delete(f"{url}/{bug['key']}", headers=eng).status_code == 204
    assert client.get(url, headers=eng).json() == []
    assert client.delete(f"{url}/{bug['key']}", headers=eng).status_code == 404


def test_customers_cannot_write_bugs(client, login) -> None:
    assert client.post("/api/v1/bugs", headers=login(ALICE), json=COMPLETE).status_code == 403


def test_the_policy_is_editable_by_leads(client, login) -> None:
    policy = client.get("/api/v1/bug-fix-policy", headers=login(ENG1)).json()
    assert [p["severity"] for p in policy] == ["S1", "S2", "S3", "S4"]
    policy[0]["days"] = 3
    assert client.put("/api/v1/bug-fix-policy", headers=login(ENG1), json=policy).status_code == 403
    assert client.put("/api/v1/bug-fix-policy", headers=login(LEAD), json=policy).status_code == 200
    bug = file_bug(client, login(ENG1))
    assert bug["fix_target"]["due_at"] == "2026-11-28T10:00:00Z"
    assert (
        client.put("/api/v1/bug-fix-policy", headers=login(LEAD), json=policy[:2]).status_code
        == 422
    )


@pytest.mark.parametrize(
    "bad", [{"severity": "S9"}, {"title": "x"}, {"environment": {"os": "x"}}, {"public": "yes"}]
)
def test_bad_bug_input_is_refused(client, login, bad) -> None:
    assert client.post("/api/v1/bugs", headers=login(ENG1), json=COMPLETE | bad).status_code == 422


def test_similar_search_finds_the_known_bug_and_customers_get_public_ones_only(
    client, login
) -> None:
    eng = login(ENG1)
    internal = file_bug(client, eng)
    public = file_bug(
        client,
        eng,
        public=True,
        title="Excel export of large Entities times out",
        description="Exporting an Entity with more than 100k rows to Excel times out after 60 s.",
        workaround="Export in pages of 50k rows.",
    )
    staff = client.get(
        "/api/v1/bugs/similar",
        headers=eng,
        params={"text": "connection pool exhausted after REST call failures"},
    )
    assert staff.status_code == 200
    assert staff.json()["items"][0]["key"] == internal["key"]
    mine = client.get(
        "/api/v1/bugs/similar",
        headers=login(ALICE),
        params={"text": "connection pool exhausted after REST call failures"},
    )
    assert internal["key"] not in [h["key"] for h in mine.json()["items"]]
    case = client.post(
        "/api/v1/cases",
        headers=login(ALICE),
        json={
            "title": "Excel export times out",
            "description": "Exporting our Claims Entity to Excel times out for big tables",
            "environment_id": 1,
            "impact": {"degraded": True},
            "breadth": "particular_circumstance",
            "end_users_blocked": False,
        },
    ).json()
    assert case["suggestions"][0]["key"] == public["key"]
    assert case["suggestions"][0]["workaround"] == "Export in pages of 50k rows."


def test_a_bug_filed_in_one_app_is_found_by_another_on_the_same_database(
    client, login, settings, clock, database
) -> None:
    from fastapi.testclient import TestClient

    from critdesk.app import create_app

    other = TestClient(create_app(settings, clock=clock, database=database))
    eng = login(ENG1)
    query = {"text": "pool leak after failed REST calls"}
    assert other.get("/api/v1/bugs/similar", headers=eng, params=query).json()["items"] == []
    bug = file_bug(client, eng)
    found = other.get("/api/v1/bugs/similar", headers=eng, params=query).json()["items"]
    assert [h["key"] for h in found] == [bug["key"]]
