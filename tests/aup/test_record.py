"""The acceptable-use record: an organisation's redirected cases, for its account manager."""

from __future__ import annotations

from typing import Any

from critdesk.auth import service as auth
from tests.case.test_actions import act
from tests.case.test_api import ALICE, AM, DAN, ENG1, LEAD, report

ADMIN = "admin@vendor.example"


def org_ids(client: Any, headers: dict[str, str]) -> dict[str, int]:
    return {o["name"]: o["id"] for o in client.get("/api/v1/organisations", headers=headers).json()}


def record(client: Any, headers: dict[str, str], organisation_id: int, **params: Any) -> Any:
    return client.get(
        f"/api/v1/organisations/{organisation_id}/acceptable-use", headers=headers, params=params
    )


def test_the_account_manager_sees_redirects_by_target_and_month(client, login, clock) -> None:
    fabrikam = org_ids(client, login(ADMIN))["Fabrikam Retail"]
    ref = report(client, login(DAN), "fr-prod", title="How do I export orders?")["ref"]
    clock.advance(hours=1)
    redirected = act(
        client,
        login(ENG1),
        ref,
        "redirect",
        {"target": "support_helpdesk", "message": "A how-to question: the Support Helpdesk."},
    )
    assert redirected.status_code == 200, redirected.text
    body = record(client, login(AM), fabrikam).json()
    assert body["organisation"] == {"id": fabrikam, "name": "Fabrikam Retail", "package": "premium"}
    assert body["cases_reported"] == 3  # the demo's two, and this one
    assert body["redirected"] == {
        "count": 2,
        "cases": 2,
        "share": round(2 / 3, 4),
        "by_target": {"documentation": 1, "support_helpdesk": 1},
        "by_month": [
            {
                "month": "2026-11",
                "count": 2,
                "by_target": {"documentation": 1, "support_helpdesk": 1},
            }
        ],
    }
    newest, demo_howto = body["items"]
    assert newest["ref"] == ref and newest["target"] == "support_helpdesk"
    assert newest["message"] == "A how-to question: the Support Helpdesk."
    assert newest["redirected_by"]["email"] == ENG1
    assert newest["reporter"]["email"] == DAN
    assert newest["redirected_at"] == "2026-11-25T11:00:00Z"
    assert demo_howto["target"] == "documentation"
    assert demo_howto["qualification_at_intake"] == "not_critical"
    assert body["next_cursor"] is None


def test_the_record_pages_and_narrows_to_a_period(client, login) -> None:
    fabrikam = org_ids(client, login(ADMIN))["Fabrikam Retail"]
    ref = report(client, login(DAN), "fr-prod")["ref"]
    act(client, login(ENG1), ref, "redirect", {"target": "account_manager", "message": "Training."})
    first = record(client, login(LEAD), fabrikam, limit=1).json()
    assert [i["ref"] for i in first["items"]] == [ref]
    rest = record(client, login(LEAD), fabrikam, limit=1, cursor=first["next_cursor"]).json()
    assert [i["target"] for i in rest["items"]] == ["documentation"]
    today = record(client, login(LEAD), fabrikam, **{"from": "2026-11-25"}).json()
    assert today["redirected"]["by_target"] == {"account_manager": 1}
    assert today["period_from"] == "2026-11-25T00:00:00Z"
    bad = record(client, login(LEAD), fabrikam, **{"from": "2026-11-26", "to": "2026-11-25"})
    assert bad.status_code == 422


def test_only_the_account_manager_leads_and_admins_may_read_it(client, login, database, clock):
    orgs = org_ids(client, login(ADMIN))
    fabrikam, northwind = orgs["Fabrikam Retail"], orgs["Northwind Insurance"]
    for reader in (AM, LEAD, ADMIN):
        assert record(client, login(reader), fabrikam).status_code == 200, reader
    assert record(client, login(ENG1), fabrikam).status_code == 403
    own = record(client, login(DAN), fabrikam)
    assert (own.status_code, own.json()["error"]["code"]) == (403, "account_manager_only")
    assert record(client, login(ALICE), fabrikam).status_code == 404
    assert record(client, login(AM), 999_999).status_code == 404
    with database.session() as db:
        auth.create_user(
            db=db,
            email="am2@vendor.example",
            name="Another AM",
            role="account_manager",
            password=None,
            organisation_id=None,
            now=clock.now,
        )
    assert record(client, login("am2@vendor.example"), northwind).status_code == 404
