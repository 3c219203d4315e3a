"""The package catalogue: everyone reads it, only admins edit it."""

from __future__ import annotations

ADMIN = "admin@vendor.example"


def test_the_catalogue_has_the_four_example_packages(client, login) -> None:
    packages = client.get("/api/v1/packages", headers=login("bob@northwind.example")).json()
    by_code = {p["code"]: p for p in packages}
    assert list(by_code) == ["essential", "business", "premium", "enterprise"]
    assert by_code["essential"]["desk_access"] is False
    assert by_code["business"]["availability"].startswith("Mon–Fri 09:00–17:30 Europe/London")
    assert by_code["enterprise"]["availability"] == "24x7"
    assert by_code["premium"]["channels"] == ["web", "email", "phone"]
    assert by_code["enterprise"]["sla_targets"] == {
        "S1": 1800,
        "S2": 7200,
        "S3": 14400,
        "S4": 28800,
    }


def test_an_admin_edits_a_package_and_new_cases_follow_it(client, login) -> None:
    admin = login(ADMIN)
    response = client.patch(
        "/api/v1/packages/enterprise",
        headers=admin,
        json={"sla_targets": {"S1": 900, "S2": 3600, "S3": 7200, "S4": 14400}, "queue_weight": 4},
    )
    assert response.status_code == 200, response.text
    assert response.json()["sla_targets"]["S1"] == 900
    from tests.case.test_api import ALICE, report

    case = report(client, login(ALICE))
    assert case["sla"]["target_seconds"] == 900


def test_an_admin_creates_a_package(client, login) -> None:
    body = {
        "code": "platinum",
        "name": "Platinum",
        "desk_access": True,
        "calendar": {"timezone": "UTC", "hours": {"mon": ["00:00-24:00"]}},
        "channels": ["web", "phone"],
        "phone_number": "+1 555 0100",
        "sla_targets": {"S1": 600, "S2": 1200, "S3": 2400, "S4": 4800},
        "queue_weight": 5,
    }
    response = client.post("/api/v1/packages", headers=login(ADMIN), json=body)
    assert response.status_code == 201, response.text
    assert response.json()["availability"] == "Mon 00:00–24:00 UTC"
    again = client.post("/api/v1/packages", headers=login(ADMIN), json=body)
    assert again.status_code == 422 and again.json()["error"]["code"] == "code_taken"


def test_non_admins_cannot_edit_packages(client, login) -> None:
    for email in ("lead@vendor.example", "alice@northwind.example"):
        response = client.patch(
            "/api/v1/packages/enterprise", headers=login(email), json={"queue_weight": 9}
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "admin_only"


def test_bad_package_definitions_are_refused(client, login) -> None:
    admin = login(ADMIN)
    cases = [
        {"calendar": {"timezone": "Mars/Olympus", "hours": {}}},
        {"calendar": {"timezone": "UTC", "hours": {"mon": ["09:00-25:00"]}}},
        {"sla_targets": {"S1": -5}},
        {"sla_targets": {"S7": 60}},
        {"channels": ["fax"]},
        {"queue_weight": 11},
        {"desk_access": "yes"},
    ]
    for change in cases:
        response = client.patch("/api/v1/packages/business", headers=admin, json=change)
        assert response.status_code == 422, (change, response.text)
    unchanged = client.get("/api/v1/packages", headers=admin).json()[1]
    assert unchanged["calendar"]["timezone"] == "Europe/London"
    assert client.patch("/api/v1/packages/nope", headers=admin, json={}).status_code == 404


def test_a_new_queue_weight_orders_open_cases_at_once_and_reopened_ones_on_return(
    client, login
) -> None:
    from tests.case.test_actions import act
    from tests.case.test_api import ALICE, ENG1, report

    eng, alice = login(ENG1), login(ALICE)
    waiting = report(client, alice)["ref"]
    resolved = report(client, alice)["ref"]
    act(client, eng, resolved, "start_investigation")
    outcome = {"type": "workaround_provided", "text": "Restart the Gateway."}
    assert act(client, eng, resolved, "resolve", {"outcomes": [outcome]}).status_code == 200

    edited = client.patch(
        "/api/v1/packages/enterprise", headers=login(ADMIN), json={"queue_weight": 6}
    )
    assert edited.status_code == 200, edited.text

    def weight_line(ref: str) -> str:
        items = client.get("/api/v1/queue", headers=eng, params={"limit": 200}).json()["items"]
        item = next(i for i in items if i["ref"] == ref)
        return item["explanation"][-1]

    assert weight_line(waiting) == "Enterprise package weight 6 (+120)"
    reopened = act(client, alice, resolved, "reopen", {"reason": "It failed again."})
    assert reopened.status_code == 200, reopened.text
    assert weight_line(resolved) == "Enterprise package weight 6 (+120)"
