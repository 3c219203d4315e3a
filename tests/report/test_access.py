"""Who reads which report, and how far: a customer admin never sees another organisation in
any report, CSV or chart; customers are refused; account managers see their organisations;
bad input is refused with a 4xx and never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import update

from critdesk.organisation.models import Organisation
from critdesk.report import rules
from tests.case.test_api import ALICE, AM, BOB, CAROL, ENG1, LEAD
from tests.report.conftest import PERIOD

OTHERS_OF_CONTOSO = ("Northwind", "Fabrikam", "Tailspin", "nw-prod", "fr-prod", "Emma", "Eli")
CUSTOMER_ADMIN_REPORTS = {
    "sla",
    "sla-monthly",
    "time-to-investigate",
    "time-to-resolution",
    "open-cases",
    "root-causes",
}


def get(client: Any, headers: dict[str, str], path: str) -> Any:
    return client.get(path, headers=headers)


def test_a_customer_admin_sees_only_their_organisation_in_every_report(
    client, login, dataset
) -> None:
    for name in rules.SPECS:
        _only_contoso(client, login(CAROL), login(LEAD), name)


def _only_contoso(client: Any, carol: dict[str, str], lead: dict[str, str], name: str) -> None:
    as_json = get(client, carol, f"/api/v1/reports/{name}?{PERIOD}")
    as_csv = get(client, carol, f"/api/v1/reports/{name}.csv?{PERIOD}")
    if name not in CUSTOMER_ADMIN_REPORTS:
        for response in (as_json, as_csv):
            assert response.status_code == 403, response.text
            assert response.json()["error"]["code"] == "not_for_customers"
        return
    assert as_json.status_code == as_csv.status_code == 200
    body = as_json.json()
    assert body["scope"] == "own"
    for text in (as_json.text, as_csv.text):
        for other in OTHERS_OF_CONTOSO:
            assert other not in text, (name, other)
    # The same figures as the lead gets for Contoso alone.
    contoso = get(client, lead, f"/api/v1/reports/{name}?{PERIOD}&organisation=Contoso%20Health")
    assert body["rows"] == contoso.json()["rows"]
    if name == "sla":
        assert {r["organisation"] for r in body["rows"]} == {"Contoso Health"}


def test_a_customer_admins_page_and_charts_show_only_their_organisation(
    client, dataset, browse
) -> None:
    browse(CAROL)
    page = client.get(f"/reports?{PERIOD}")
    assert page.status_code == 200
    assert "Contoso Health: SLA record" in page.text
    for other in OTHERS_OF_CONTOSO:
        assert other not in page.text, other
    for ref in (dataset.refs[k] for k in ("N1", "N2", "N3", "N4", "N5", "F1", "F2", "F3")):
        assert ref not in page.text
    charts = re.findall(r"<svg .*?</svg>", page.text, flags=re.S)
    assert len(charts) == 6
    # Contoso's S1 clocks: C1 met, C5 running — never Northwind's three.
    assert "S1: met 1, breached 0, running 1." in page.text


def test_a_customer_admin_cannot_name_another_organisation(client, login, dataset, browse) -> None:
    carol = login(CAROL)
    northwind_id = client.get("/api/v1/me", headers=login(ALICE)).json()["organisation"]["id"]
    for value in ("Northwind%20Insurance", str(northwind_id), "No%20Such%20Ltd", "999999"):
        for suffix in ("", ".csv"):
            response = get(client, carol, f"/api/v1/reports/sla{suffix}?organisation={value}")
            assert response.status_code == 404, value
            assert response.json()["error"]["code"] == "not_found"
    browse(CAROL)
    assert client.get("/reports?organisation=Northwind%20Insurance").status_code == 404
    own = get(client, carol, "/api/v1/reports/sla?organisation=contoso%20health")
    assert own.status_code == 200


def test_customers_are_refused_every_report(client, login) -> None:
    bob = login(BOB)
    for name in rules.SPECS:
        for suffix in ("", ".csv"):
            response = get(client, bob, f"/api/v1/reports/{name}{suffix}")
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "customer_admins_only"


def test_customers_are_refused_the_list_and_the_page(client, login, browse) -> None:
    assert get(client, login(BOB), "/api/v1/reports").status_code == 403
    browse(BOB)
    page = client.get("/reports")
    assert page.status_code == 403
    assert "reports are for your organisation" in page.text.lower()


def test_without_a_token_nothing_is_shown(client, dataset) -> None:
    response = client.get("/api/v1/reports/sla")
    assert response.status_code == 401
    assert client.get("/api/v1/reports/sla.csv").status_code == 401


def test_the_list_names_the_callers_reports(client, login) -> None:
    names = [r["name"] for r in get(client, login(CAROL), "/api/v1/reports").json()]
    assert set(names) == CUSTOMER_ADMIN_REPORTS
    lead = get(client, login(LEAD), "/api/v1/reports").json()
    assert [r["name"] for r in lead] == list(rules.SPECS)
    assert lead[0]["url"] == "/api/v1/reports/sla"
    assert lead[0]["csv_url"] == "/api/v1/reports/sla.csv"


def test_an_account_manager_sees_only_the_organisations_they_manage(
    client, login, dataset, database, browse
) -> None:
    with database.session() as session:
        session.execute(
            update(Organisation)
            .where(Organisation.name == "Fabrikam Retail")
            .values(account_manager_id=None)
        )
    am = login(AM)
    for name in rules.SPECS:
        response = get(client, am, f"/api/v1/reports/{name}?{PERIOD}")
        assert response.status_code == 200, name
        assert response.json()["scope"] == "managed"
        assert (
            "Fabrikam" not in response.text
            and "Fabrikam" not in get(client, am, f"/api/v1/reports/{name}.csv?{PERIOD}").text
        )
    managed = {
        r["organisation"] for r in get(client, am, f"/api/v1/reports/sla?{PERIOD}").json()["rows"]
    }
    assert managed == {"Contoso Health", "Northwind Insurance"}
    # F3, Fabrikam's referral, is no longer theirs.
    assert get(client, am, f"/api/v1/reports/referrals?{PERIOD}").json()["rows"] == []
    refused = get(client, am, "/api/v1/reports/sla?organisation=Fabrikam%20Retail")
    assert refused.status_code == 404
    browse(AM)
    page = client.get(f"/reports?{PERIOD}")
    assert page.status_code == 200 and "Fabrikam" not in page.text


def test_engineers_read_the_desks_figures_but_not_acceptable_use(
    client, login, dataset, browse
) -> None:
    eng = login(ENG1)
    assert get(client, eng, f"/api/v1/reports/engineer-load?{PERIOD}").status_code == 200
    assert get(client, eng, f"/api/v1/reports/sla?{PERIOD}").json()["scope"] == "all"
    for name in ("acceptable-use", "referrals"):
        refused = get(client, eng, f"/api/v1/reports/{name}")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "not_allowed"
    browse(ENG1)
    assert client.get("/reports").status_code == 200


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("from=yesterday", 422, "invalid_period"),
        ("from=2026-02-30", 422, "invalid_period"),
        ("from=2026-10-01&to=2026-09-01", 422, "invalid_period"),
        ("from=2026-10-01&to=2026-10-01", 422, "invalid_period"),
        ("package=platinum", 422, "unknown_package"),
        ("severity=S9", 422, "invalid_severity"),
        ("limit=0", 422, "invalid_input"),
        ("limit=201", 422, "invalid_input"),
        ("organisation=" + "9" * 30, 404, "not_found"),
        ("organisation=2147483648", 404, "not_found"),
        ("organisation=Contoso%00Health", 422, "invalid_filter"),
        ("package=%00", 422, "invalid_filter"),
        ("from=0001-01-01T00:00:00%2B05:00", 422, "invalid_period"),
        ("from=" + "1" * 41, 422, "invalid_input"),
        ("from=0001-01-01&to=9999-12-31", 200, None),
        ("from=&to=&package=&organisation=&severity=", 200, None),
    ],
)
def test_bad_filters_are_refused_and_never_a_500(client, login, query, status, code) -> None:
    response = get(client, login(LEAD), f"/api/v1/reports/sla?{query}")
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error"]["code"] == code


def test_an_unknown_report_is_not_found(client, login) -> None:
    for path in ("/api/v1/reports/nothing", "/api/v1/reports/nothing.csv"):
        response = get(client, login(LEAD), path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
