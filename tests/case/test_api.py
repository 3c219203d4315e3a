"""Reporting and reading cases over the API, on every configured database."""

from __future__ import annotations

from typing import Any

import pytest

ALICE = "alice@northwind.example"  # Northwind (Enterprise, 24x7), customer_admin
BOB = "bob@northwind.example"  # Northwind, customer
CAROL = "carol@contoso.example"  # Contoso (Business, Mon–Fri 09:00–17:30 London)
DAN = "dan@fabrikam.example"  # Fabrikam (Premium)
ERIN = "erin@tailspin.example"  # Tailspin (Essential: no desk access)
ENG1 = "eng1@vendor.example"
LEAD = "lead@vendor.example"
AM = "am@vendor.example"


def env_id(client: Any, headers: dict[str, str], name: str) -> int:
    me = client.get("/api/v1/me", headers=headers).json()
    return next(e["id"] for e in me["organisation"]["environments"] if e["name"] == name)


def outage(environment_id: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Checkout fails for everyone",
        "description": "Every checkout answers HTTP 500 since 09:12.",
        "environment_id": environment_id,
        "impact": {"app_unavailable": True},
        "breadth": "all_users",
        "end_users_blocked": True,
    }
    return body | overrides


def report(client: Any, headers: dict[str, str], env: str = "nw-prod", **overrides: Any) -> dict:
    response = client.post(
        "/api/v1/cases", headers=headers, json=outage(env_id(client, headers, env), **overrides)
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_customer_reports_a_critical_outage(client, login, clock) -> None:
    alice = login(ALICE)
    case = report(client, alice)
    assert case["ref"].startswith("PCH-")
    assert case["state"] == "new"
    assert case["severity"] == "S1"
    assert case["qualification"]["status"] == "critical"
    assert case["qualification"]["reasons"]
    assert case["sla"]["target_seconds"] == 1800
    assert case["sla"]["status"] == "running"
    assert case["sla"]["clock_starts_at"] == "2026-11-25T10:00:00Z"
    assert case["sla"]["due_at"] == "2026-11-25T10:30:00Z"
    assert case["suggestions"] == []
    assert [e["kind"] for e in case["timeline"]] == ["reported"]


def test_the_same_idempotency_key_never_makes_a_second_case(client, login) -> None:
    alice = login(ALICE)
    body = outage(env_id(client, alice, "nw-prod"))
    headers = alice | {"Idempotency-Key": "retry-42"}
    first = client.post("/api/v1/cases", headers=headers, json=body)
    second = client.post("/api/v1/cases", headers=headers, json=body)
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json()["ref"] == second.json()["ref"]
    listed = client.get("/api/v1/cases?q=checkout", headers=alice).json()["items"]
    assert len(listed) == 1


def test_an_idempotency_key_reused_with_another_body_is_refused(client, login) -> None:
    alice = login(ALICE)
    body = outage(env_id(client, alice, "nw-prod"))
    headers = alice | {"Idempotency-Key": "k1"}
    assert client.post("/api/v1/cases", headers=headers, json=body).status_code == 201
    again = client.post("/api/v1/cases", headers=headers, json=body | {"title": "Other title"})
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "idempotency_key_reused"


def test_a_package_without_desk_access_is_told_which_channel_it_has(client, login) -> None:
    erin = login(ERIN)
    response = client.post(
        "/api/v1/cases", headers=erin, json=outage(env_id(client, erin, "tt-prod"))
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "no_desk_access"
    assert "Support Helpdesk" in error["message"] and "web" in error["message"]
    assert client.get("/api/v1/cases", headers=erin).json()["items"] == []


def test_a_channel_the_package_lacks_is_refused_naming_the_ones_it_has(client, login) -> None:
    carol = login(CAROL)
    body = outage(env_id(client, carol, "ch-prod"), channel="phone")
    response = client.post("/api/v1/cases", headers=carol, json=body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "channel_not_available"
    assert "e-mail" in response.json()["error"]["message"]


def test_a_business_hours_case_reported_friday_evening_starts_monday(client, login, clock) -> None:
    clock.set(clock.now.replace(day=27, hour=18))  # Friday 27 November 2026, 18:00 London
    case = report(client, login(CAROL), env="ch-prod")
    assert case["sla"]["clock_starts_at"] == "2026-11-30T09:00:00Z"
    assert case["sla"]["due_at"] == "2026-11-30T13:00:00Z"  # S1: 4 business hours


def test_non_production_is_provisionally_not_critical(client, login) -> None:
    case = report(client, login(BOB), env="nw-uat")
    assert case["qualification"]["status"] == "not_critical"
    assert case["qualification"]["suggested_redirect"] == "support_helpdesk"
    assert case["severity"] == "S4"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": None}, "title"),
        ({"breadth": "some_users"}, "breadth"),
        ({"end_users_blocked": "yes"}, "end_users_blocked"),
        ({"impact": {"app_unavailable": "true"}}, "impact"),
        ({"impact": {"meteor_strike": True}}, "impact"),
        ({"environment_id": "1"}, "environment_id"),
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_input_is_refused_clearly_and_writes_nothing(client, login, change, field) -> None:
    alice = login(ALICE)
    before = client.get("/api/v1/cases", headers=alice).json()["items"]
    body = outage(env_id(client, alice, "nw-prod")) | change
    response = client.post("/api/v1/cases", headers=alice, json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in error["message"]
    assert client.get("/api/v1/cases", headers=alice).json()["items"] == before


def test_missing_fields_and_broken_json_get_422(client, login) -> None:
    alice = login(ALICE)
    missing = client.post("/api/v1/cases", headers=alice, json={"title": "Down"})
    assert missing.status_code == 422
    assert "description" in missing.json()["error"]["message"]
    broken = client.post(
        "/api/v1/cases", headers=alice | {"Content-Type": "application/json"}, content=b"{nope"
    )
    assert broken.status_code == 422


def test_an_oversized_body_is_refused_with_413(client, login) -> None:
    alice = login(ALICE)
    body = outage(env_id(client, alice, "nw-prod"), description="x" * 2_000_000)
    response = client.post("/api/v1/cases", headers=alice, json=body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_an_unknown_or_foreign_environment_is_refused_alike(client, login) -> None:
    alice, carol = login(ALICE), login(CAROL)
    foreign = env_id(client, carol, "ch-prod")
    for environment_id in (foreign, 99_999):
        response = client.post("/api/v1/cases", headers=alice, json=outage(environment_id))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "unknown_environment"
    assert client.get("/api/v1/cases?q=checkout", headers=carol).json()["items"] == []


def test_without_a_token_the_api_answers_401(client, demo) -> None:
    response = client.get("/api/v1/cases")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    bad = client.get("/api/v1/cases", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_staff_cannot_report_cases_as_a_customer(client, login) -> None:
    response = client.post("/api/v1/cases", headers=login(ENG1), json=outage(1))
    assert response.status_code == 403
