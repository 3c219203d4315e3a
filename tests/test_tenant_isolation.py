"""Tenant isolation, generated from the route table: another organisation's objects read as
absent (404) on every route, and lists never leak them."""

from __future__ import annotations

import re
from typing import Any

from tests.case.test_api import ALICE, AM, CAROL, DAN, ENG1, report

SLOT = {"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T11:00:00Z"}
# A valid body for every write route, so that the refusal comes from the tenant check and not
# from input validation. A new route without a sample here fails the test on purpose.
SAMPLE_BODIES: dict[str, Any] = {
    "/actions/assign": {"engineer": ENG1},
    "/actions/assess": {"severity": "S2", "reason": "because"},
    "/actions/redirect": {"target": "community_forum", "message": "ask there"},
    "/actions/resolve": {"outcomes": [{"type": "resolution_advised", "text": "x"}]},
    "/actions/start_investigation": {},
    "/actions/close": {},
    "/actions/confirm": {},
    "/actions/reopen": {},
    "/requests": {"kind": "question", "message": "which version?"},
    "/requests/{request_id}/answer": {"message": "10.4"},
    "/requests/{request_id}/cancel": {},
    "/comments": {"body": "hello"},
    "/screen-shares": {"slots": [SLOT], "meeting_link": "https://meet.example/x"},
    "/screen-shares/{share_id}/accept": {"start": SLOT["start"]},
    "/screen-shares/{share_id}/notes": {"notes": "done"},
    "/screen-shares/{share_id}/cancel": {},
    "/cloud-access": {"justification": "check the cloud logs", "minutes": 30},
    "/cloud-access/{access_id}/use": {"note": "read logs"},
    "/cloud-access/{access_id}/revoke": {},
    "/root-cause": {"category": "configuration", "summary": "x", "product_defect": False},
    "/attachments": None,  # multipart: sent as a file below
    "/bugs": {"bug": "BUG-1"},
    "/bugs/new": {},
    "/bugs/{key}": {},
    "/article": {},
}


def case_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) of the OpenAPI document that addresses one case."""
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if "{ref}" in path
        for method in operations
    ]


def fill(path: str, ref: str) -> str:
    # Sub-resource ids of another organisation's case: any id will do, the case comes first.
    return re.sub(r"\{[a-z_]+\}", "1", path.replace("{ref}", ref))


def test_every_case_route_hides_another_organisations_case(client, app, login) -> None:
    northwind_case = report(client, login(ALICE))["ref"]
    routes = case_routes(app)
    assert len(routes) >= 8
    carol = login(CAROL)
    for method, path in routes:
        url = fill(path, northwind_case)
        if method == "GET":
            response = client.get(url, headers=carol)
        else:
            suffix = path.split("{ref}", 1)[1]
            assert suffix in SAMPLE_BODIES, f"add a sample body for {method} {path}"
            body = SAMPLE_BODIES[suffix]
            if body is None:
                response = client.post(url, headers=carol, files={"file": ("a.log", b"x")})
            else:
                response = client.request(method, url, headers=carol, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"


def test_lists_and_searches_never_show_another_organisations_cases(client, login) -> None:
    report(client, login(ALICE), title="Northwind secret outage")
    carol = login(CAROL)
    for query in ("", "?q=secret", "?state=new", "?organisation_id=1", "?limit=200"):
        items = client.get(f"/api/v1/cases{query}", headers=carol).json()["items"]
        assert all(item["organisation"] == "Contoso Health" for item in items), query


def test_the_queue_is_refused_to_customers(client, login) -> None:
    response = client.get("/api/v1/queue", headers=login(ALICE))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "engineers_only"


def test_an_account_manager_sees_only_the_organisations_they_manage(
    client, login, database
) -> None:
    from sqlalchemy import update

    from critdesk.organisation.models import Organisation

    ref = report(client, login(DAN), env="fr-prod")["ref"]
    with database.session() as session:
        session.execute(
            update(Organisation)
            .where(Organisation.name == "Fabrikam Retail")
            .values(account_manager_id=None)
        )
    am = login(AM)
    assert client.get(f"/api/v1/cases/{ref}", headers=am).status_code == 404
    organisations = {
        c["organisation"] for c in client.get("/api/v1/cases", headers=am).json()["items"]
    }
    assert "Fabrikam Retail" not in organisations
    assert organisations  # the others are still theirs


def test_organisation_routes_hide_other_organisations(client, login) -> None:
    carol = login(CAROL)
    own = client.get("/api/v1/organisations", headers=carol).json()
    assert [o["name"] for o in own] == ["Contoso Health"]
    northwind_id = client.get("/api/v1/me", headers=login(ALICE)).json()["organisation"]["id"]
    for path in ("", "/environments", "/users"):
        response = client.get(f"/api/v1/organisations/{northwind_id}{path}", headers=carol)
        assert response.status_code == 404, path
    created = client.post(
        f"/api/v1/organisations/{northwind_id}/environments",
        headers=carol,
        json={"name": "x", "type": "cloud", "production": True},
    )
    assert created.status_code == 404
