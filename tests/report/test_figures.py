"""Report figures against hand-computed expectations on the fixed data set (conftest.py),
on every configured database. The arithmetic is in the comments."""

from __future__ import annotations

from typing import Any

from critdesk.report import rules
from tests.case.test_api import LEAD
from tests.report.conftest import END, PERIOD


def rows(client: Any, headers: dict[str, str], name: str, query: str = PERIOD) -> list[dict]:
    response = client.get(f"/api/v1/reports/{name}?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["rows"]


def sla(org: str, package: str, severity: str, met: int, breached: int, running: int) -> dict:
    return {"organisation": org, "package": package, "severity": severity} | rules.sla_figures(
        met, breached, running
    )


def test_sla_compliance_per_organisation_package_and_severity(client, login, dataset) -> None:
    assert rows(client, login(LEAD), "sla") == [
        # C1 met (3 h of business time: Fri 16:30-17:30, bank holiday Monday, Tue 09:00-11:00
        # BST; due Tue 12:00 BST), C5 still running at END (due 15:00)
        sla("Contoso Health", "Business", "S1", 1, 0, 1),
        # C2: due Mon 14:30 BST after the weekend, started 16:00 BST: breached
        sla("Contoso Health", "Business", "S2", 0, 1, 0),
        # C3 met across the end of September; C6 never started, due Tue 20 Oct: breached
        sla("Contoso Health", "Business", "S3", 1, 1, 0),
        # F1 met (Sat 21:00-22:00, Sunday closed, Mon 07:00-07:30 BST), F3 met
        sla("Fabrikam Retail", "Premium", "S2", 2, 0, 0),
        # F2: due 16:00, started 17:00
        sla("Fabrikam Retail", "Premium", "S3", 0, 1, 0),
        # N1 met (20 min), N2 breached (45 min > 30), N5 met (10 min): 2 / 3 = 0.6667
        sla("Northwind Insurance", "Enterprise", "S1", 2, 1, 0),
        sla("Northwind Insurance", "Enterprise", "S2", 1, 0, 0),
        # N4 (S4) was redirected before anyone investigated: its clock has no outcome
    ]


def test_sla_compliance_by_month_counts_a_case_in_the_month_it_was_reported(
    client, login, dataset
) -> None:
    def month(name: str, package: str, met: int, breached: int, running: int) -> dict:
        return {"month": name, "package": package} | rules.sla_figures(met, breached, running)

    assert rows(client, login(LEAD), "sla-monthly") == [
        # C1 reported Fri 28 Aug, investigated Tue 1 Sep: August's
        month("2026-08", "Business", 1, 0, 0),
        # N1 met; N2 reported Mon 31 Aug 23:45, started 1 Sep 00:30: August's, breached
        month("2026-08", "Enterprise", 1, 1, 0),
        # C3 reported Wed 30 Sep, investigated Thu 1 Oct: September's
        month("2026-09", "Business", 1, 0, 0),
        # C2 breached, C5 running, C6 breached
        month("2026-10", "Business", 0, 2, 1),
        # N3, N5 met (N4 has no outcome)
        month("2026-10", "Enterprise", 2, 0, 0),
        # F1, F3 met, F2 breached: 2 / 3
        month("2026-10", "Premium", 2, 1, 0),
    ]


def test_business_time_to_start_investigating_per_severity(client, login, dataset) -> None:
    found = {r["severity"]: r for r in rows(client, login(LEAD), "time-to-investigate")}
    # S1: C1 10800, N1 1200, N2 2700, N5 600 -> sorted 600, 1200, 2700, 10800 (n = 4);
    # the p-th percentile sits at rank p × (n - 1) between the two nearest values:
    # median at 1.5: 1200 + 0.5 × 1500 = 1950; p90 at 2.7: 2700 + 0.7 × 8100 = 8370;
    # p25 at 0.75: 600 + 0.75 × 600 = 1050; p75 at 2.25: 2700 + 0.25 × 8100 = 4725.
    assert found["S1"] == {
        "severity": "S1",
        "cases": 4,
        "min_seconds": 600.0,
        "p25_seconds": 1050.0,
        "median_seconds": 1950.0,
        "p75_seconds": 4725.0,
        "p90_seconds": 8370.0,
        "max_seconds": 10800.0,
    }
    # S2: F3 1800, N3 3600, F1 5400, C2 34200 (2.5 h Friday + 7 h Monday) ->
    # median 3600 + 0.5 × 1800 = 4500; p90 5400 + 0.7 × 28800 = 25560.
    assert (found["S2"]["cases"], found["S2"]["median_seconds"], found["S2"]["p90_seconds"]) == (
        4,
        4500.0,
        25560.0,
    )
    # S3: C3 3600 (Wed 17:00-17:30 + Thu 09:00-09:30 BST), F2 32400 (9 h) ->
    # median 3600 + 0.5 × 28800 = 18000; p90 3600 + 0.9 × 28800 = 29520.
    assert (found["S3"]["cases"], found["S3"]["median_seconds"], found["S3"]["p90_seconds"]) == (
        2,
        18000.0,
        29520.0,
    )
    assert found["S4"]["cases"] == 0 and found["S4"]["median_seconds"] is None


def test_time_to_resolution_is_elapsed_time(client, login, dataset) -> None:
    found = {r["severity"]: r for r in rows(client, login(LEAD), "time-to-resolution")}
    # C1: Fri 28 Aug 15:30 -> Wed 2 Sep 10:00 = 4 d 18 h 30 min = 412200 s
    assert found["S1"]["cases"] == 1 and found["S1"]["median_seconds"] == 412200.0
    # N3: Thu 15 Oct 10:00 -> Fri 16 Oct 10:00
    assert found["S2"]["median_seconds"] == 86400.0
    # C3 22 h 30 min = 81000, F2 Mon 26 Oct 08:00 -> Wed 28 Oct 17:00 = 205200;
    # median 81000 + 0.5 × 124200 = 143100, p90 81000 + 0.9 × 124200 = 192780
    assert (found["S3"]["median_seconds"], found["S3"]["p90_seconds"]) == (143100.0, 192780.0)
    assert found["S3"]["min_seconds"] == 81000.0 and found["S3"]["max_seconds"] == 205200.0


def test_cases_waiting_by_state_and_by_whom(client, login, dataset) -> None:
    assert rows(client, login(LEAD), "open-cases") == [
        # C5 and C6 (assigning did not change its state)
        {
            "state": "new",
            "waiting_on": "vendor",
            "cases": 2,
            "oldest_since": "2026-10-19T09:00:00Z",
        },
        # C2, N1 (since Sun 30 Aug 00:10), N2
        {
            "state": "investigating",
            "waiting_on": "vendor",
            "cases": 3,
            "oldest_since": "2026-08-30T00:10:00Z",
        },
        # F1, since the question at Mon 5 Oct 07:00
        {
            "state": "awaiting_customer",
            "waiting_on": "customer",
            "cases": 1,
            "oldest_since": "2026-10-05T07:00:00Z",
        },
        # C1, C3, N3, F2 await the customer's confirmation
        {
            "state": "resolved",
            "waiting_on": "customer",
            "cases": 4,
            "oldest_since": "2026-09-02T10:00:00Z",
        },
    ]


def test_root_cause_categories(client, login, dataset) -> None:
    found = {
        r["category"]: (r["cases"], r["product_defect"])
        for r in rows(client, login(LEAD), "root-causes")
    }
    assert found == {
        "product_defect": (2, 2),  # N3, F2
        "configuration": (1, 0),  # C1
        "customer_code": (0, 0),
        "third_party": (1, 0),  # N5
        "infrastructure": (1, 0),  # C3
        "unknown": (0, 0),
    }


def test_redirects_say_how_many_critical_reports_were_not(client, login, dataset) -> None:
    response = client.get(f"/api/v1/reports/redirects?{PERIOD}", headers=login(LEAD)).json()
    found = {r["target"]: r for r in response["rows"]}
    assert found["support_helpdesk"] == {  # N4, reported (and qualified) not critical
        "target": "support_helpdesk",
        "cases": 1,
        "reported_critical": 0,
        "reported_not_critical": 1,
    }
    assert found["third_party_support"]["reported_critical"] == 1  # N5
    assert found["account_manager"]["reported_critical"] == 1  # F3
    assert found["documentation"]["cases"] == found["community_forum"]["cases"] == 0
    # 13 cases, all but N4 reported as critical; 2 of those 12 were redirected: 0.1667
    assert response["summary"] == {
        "reported": 13,
        "reported_critical": 12,
        "redirected": 3,
        "critical_redirected": 2,
        "critical_redirected_share": 0.1667,
    }


def test_acceptable_use_and_referrals_per_organisation(client, login, dataset) -> None:
    lead = login(LEAD)
    assert rows(client, lead, "acceptable-use") == [
        {
            "organisation": "Contoso Health",
            "reported": 5,
            "redirected": 0,
            "redirected_reported_critical": 0,
            "share": 0.0,
        },
        {  # F3 referred to the account manager: 1 of 3
            "organisation": "Fabrikam Retail",
            "reported": 3,
            "redirected": 1,
            "redirected_reported_critical": 1,
            "share": 0.3333,
        },
        {  # N4 and N5: 2 of 5
            "organisation": "Northwind Insurance",
            "reported": 5,
            "redirected": 2,
            "redirected_reported_critical": 1,
            "share": 0.4,
        },
    ]
    assert rows(client, lead, "referrals") == [
        {"organisation": "Fabrikam Retail", "month": "2026-10", "cases": 1}
    ]


def test_bugs_by_linked_cases(client, login, dataset) -> None:
    assert [
        (r["bug"], r["cases"], r["organisations"]) for r in rows(client, login(LEAD), "bugs")
    ] == [(dataset.bugs["A"], 2, 2), (dataset.bugs["B"], 1, 1)]
    one = rows(client, login(LEAD), "bugs", PERIOD + "&limit=1")
    assert [r["bug"] for r in one] == [dataset.bugs["A"]]


def test_engineer_load(client, login, dataset) -> None:
    assert rows(client, login(LEAD), "engineer-load") == [
        # C2, N2 investigating; F1 awaiting the customer
        {
            "engineer": "eng2@vendor.example",
            "name": "Emma Engineer",
            "new": 0,
            "investigating": 2,
            "awaiting_customer": 1,
            "open": 3,
        },
        # C6 assigned while new; N1 investigating
        {
            "engineer": "eng1@vendor.example",
            "name": "Eli Engineer",
            "new": 1,
            "investigating": 1,
            "awaiting_customer": 0,
            "open": 2,
        },
        # C5: nobody's yet
        {
            "engineer": None,
            "name": "Unassigned",
            "new": 1,
            "investigating": 0,
            "awaiting_customer": 0,
            "open": 1,
        },
    ]


def test_filters_narrow_every_figure(client, login, dataset) -> None:
    lead = login(LEAD)
    august = "from=2026-08-01&to=2026-09-01"
    assert rows(client, lead, "sla", august) == [
        sla("Contoso Health", "Business", "S1", 1, 0, 0),
        sla("Northwind Insurance", "Enterprise", "S1", 1, 1, 0),
    ]
    assert rows(client, lead, "sla", PERIOD + "&package=premium&severity=s2") == [
        sla("Fabrikam Retail", "Premium", "S2", 2, 0, 0)
    ]
    assert rows(client, lead, "sla", PERIOD + "&organisation=Northwind%20Insurance") == [
        sla("Northwind Insurance", "Enterprise", "S1", 2, 1, 0),
        sla("Northwind Insurance", "Enterprise", "S2", 1, 0, 0),
    ]
    # a time inside a day: C5 (11:00) is reported before the end
    assert rows(client, lead, "sla", "from=2026-10-30T10:59:00Z&to=2026-10-30T11:01:00Z") == [
        sla("Contoso Health", "Business", "S1", 0, 0, 1)
    ]
    assert rows(client, lead, "time-to-investigate", PERIOD + "&severity=S3") == [
        {
            "severity": "S3",
            "cases": 2,
            "min_seconds": 3600.0,
            "p25_seconds": 10800.0,
            "median_seconds": 18000.0,
            "p75_seconds": 25200.0,
            "p90_seconds": 29520.0,
            "max_seconds": 32400.0,
        }
    ]


def test_the_running_clock_breaches_as_time_passes(client, login, dataset, clock) -> None:
    clock.set(END.replace(hour=15))  # C5 was due at 15:00
    assert rows(client, login(LEAD), "sla", "from=2026-10-30")[0]["breached"] == 1


def test_the_report_agrees_with_each_cases_own_sla_status(client, login, dataset) -> None:
    lead = login(LEAD)
    counted = {"met": 0, "breached": 0, "running": 0}
    for key, ref in dataset.refs.items():
        case = client.get(f"/api/v1/cases/{ref}", headers=lead).json()
        if key == "N4":  # redirected before investigation: no outcome in the reports
            continue
        counted[case["sla"]["status"]] += 1
    totals = rows(client, lead, "sla")
    assert counted == {name: sum(r[name] for r in totals) for name in counted}


def test_all_time_includes_the_demo_and_csv_holds_the_json_figures(client, login, dataset) -> None:
    lead = login(LEAD)
    everything = client.get("/api/v1/reports/sla", headers=lead).json()
    assert everything["period"] == {"from": None, "to": None}
    assert sum(r["cases"] for r in everything["rows"]) > 12  # the demo's November cases too
    csv = client.get(f"/api/v1/reports/sla.csv?{PERIOD}", headers=lead)
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert 'filename="critdesk-sla.csv"' in csv.headers["content-disposition"]
    lines = csv.text.splitlines()
    assert lines[0] == "organisation,package,severity,cases,met,breached,running,met_rate"
    assert lines[1:] == [
        "Contoso Health,Business,S1,2,1,0,1,1.0",
        "Contoso Health,Business,S2,1,0,1,0,0.0",
        "Contoso Health,Business,S3,2,1,1,0,0.5",
        "Fabrikam Retail,Premium,S2,2,2,0,0,1.0",
        "Fabrikam Retail,Premium,S3,1,0,1,0,0.0",
        "Northwind Insurance,Enterprise,S1,3,2,1,0,0.6667",
        "Northwind Insurance,Enterprise,S2,1,1,0,0,1.0",
    ]
    for name in rules.SPECS:
        as_json = client.get(f"/api/v1/reports/{name}?{PERIOD}", headers=lead).json()
        as_csv = client.get(f"/api/v1/reports/{name}.csv?{PERIOD}", headers=lead).text
        assert as_csv.splitlines()[0] == ",".join(as_json["columns"])
        assert len(as_csv.splitlines()) == len(as_json["rows"]) + 1, name
