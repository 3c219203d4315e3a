"""Root cause, outcomes with links, redirects with what the customer needs, confirm and reopen."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.case.test_actions import act
from tests.case.test_api import ALICE, BOB, CAROL, ENG1, report


@pytest.fixture
def case(client, login) -> str:
    ref = report(client, login(ALICE))["ref"]
    act(client, login(ENG1), ref, "start_investigation")
    return ref


def root_cause(client, headers, ref, **body):  # type: ignore[no-untyped-def]
    payload = {
        "category": "product_defect",
        "summary": "Connection pool leak in 10.4.2",
        "product_defect": True,
    } | body
    return client.put(f"/api/v1/cases/{ref}/root-cause", headers=headers, json=payload)


def test_the_engineer_records_the_root_cause_with_evidence(client, login, case) -> None:
    eng = login(ENG1)
    comment = client.post(
        f"/api/v1/cases/{case}/comments",
        headers=eng,
        json={"body": "Pool exhausted at 08:41 in the runtime log."},
    ).json()
    response = root_cause(client, eng, case, evidence=[{"type": "comment", "id": comment["id"]}])
    assert response.status_code == 200, response.text
    recorded = client.get(f"/api/v1/cases/{case}", headers=login(BOB)).json()["root_cause"]
    assert recorded["category"] == "product_defect"
    assert recorded["product_defect"] is True
    assert recorded["evidence"] == [{"type": "comment", "id": comment["id"]}]
    assert recorded["by"] == ENG1


def test_evidence_from_another_case_is_refused(client, login, case) -> None:
    other = report(client, login(CAROL), env="ch-prod")["ref"]
    foreign = client.post(
        f"/api/v1/cases/{other}/comments", headers=login(ENG1), json={"body": "x"}
    ).json()
    response = root_cause(
        client, login(ENG1), case, evidence=[{"type": "comment", "id": foreign["id"]}]
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "unknown_evidence"
    assert root_cause(client, login(ENG1), case, category="gremlins").status_code == 422
    assert root_cause(client, login(ALICE), case).status_code == 403


def test_a_bug_outcome_links_the_bug_report(client, login, case) -> None:
    eng = login(ENG1)
    missing = act(
        client,
        eng,
        case,
        "resolve",
        {"outcomes": [{"type": "bug_reported", "text": "Filed a defect."}]},
    )
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "bug_link_required"
    done = act(
        client,
        eng,
        case,
        "resolve",
        {
            "outcomes": [
                {"type": "workaround_provided", "text": "Raise the pool size to 50."},
                {"type": "bug_reported", "text": "Filed the pool leak.", "link": "BUG-1042"},
            ]
        },
    )
    assert done.json()["outcomes"][1]["link"] == "BUG-1042"


def test_a_documentation_redirect_needs_links_and_third_party_a_name(client, login) -> None:
    eng = login(ENG1)
    ref = report(client, login(BOB), env="nw-uat")["ref"]
    no_links = act(client, eng, ref, "redirect", {"target": "documentation", "message": "Read"})
    assert no_links.status_code == 422 and no_links.json()["error"]["code"] == "links_required"
    no_name = act(
        client,
        eng,
        ref,
        "redirect",
        {"target": "third_party_support", "message": "Your load balancer"},
    )
    assert no_name.json()["error"]["code"] == "third_party_required"
    ok = act(
        client,
        eng,
        ref,
        "redirect",
        {
            "target": "documentation",
            "message": "This is covered by the docs.",
            "links": ["https://docs.vendor.example/export"],
        },
    )
    assert ok.json()["redirect"]["links"] == ["https://docs.vendor.example/export"]
    seen = client.get(f"/api/v1/cases/{ref}", headers=login(BOB)).json()
    assert seen["redirect"]["message"] == "This is covered by the docs."


def test_the_customer_confirms_the_resolution(client, login, case) -> None:
    act(
        client,
        login(ENG1),
        case,
        "resolve",
        {"outcomes": [{"type": "resolution_advised", "text": "Upgrade to 10.4.3."}]},
    )
    assert act(client, login(ENG1), case, "confirm").status_code == 403
    confirmed = act(client, login(BOB), case, "confirm")
    assert confirmed.json()["state"] == "closed"
    assert confirmed.json()["confirmed_at"] == "2026-11-25T10:00:00Z"


def test_a_customer_reopens_only_within_the_window(client, login, clock, case) -> None:
    eng = login(ENG1)
    act(
        client,
        eng,
        case,
        "resolve",
        {"outcomes": [{"type": "resolution_advised", "text": "Upgrade."}]},
    )
    clock.advance(days=15)
    late = act(client, login(ALICE), case, "reopen", {"reason": "again"})
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "reopen_window_passed"
    assert case in late.json()["error"]["message"]
    assert act(client, eng, case, "reopen", {"reason": "regression"}).status_code == 200


def test_unconfirmed_resolutions_close_after_the_window(
    client, login, clock, database, case
) -> None:
    from critdesk.case.service import close_unconfirmed

    act(
        client,
        login(ENG1),
        case,
        "resolve",
        {"outcomes": [{"type": "resolution_advised", "text": "Upgrade."}]},
    )
    window = timedelta(days=14)
    with database.session() as session:
        close_unconfirmed(db=session, now=clock.advance(days=13), window=window)
    assert client.get(f"/api/v1/cases/{case}", headers=login(ALICE)).json()["state"] == "resolved"
    with database.session() as session:
        assert close_unconfirmed(db=session, now=clock.advance(days=2), window=window) == 1
    with database.session() as session:
        assert close_unconfirmed(db=session, now=clock.now, window=window) == 0
    detail = client.get(f"/api/v1/cases/{case}", headers=login(ALICE)).json()

    assert detail["state"] == "closed"
    assert detail["timeline"][-1]["message"].startswith("Closed automatically")
