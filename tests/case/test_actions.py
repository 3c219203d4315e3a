"""The case life cycle over the API: every action, its permissions and its refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.case.test_api import ALICE, AM, BOB, CAROL, ENG1, LEAD, report

ENG2 = "eng2@vendor.example"


def act(client: Any, headers: dict, ref: str, action: str, body: dict | None = None) -> Any:
    return client.post(f"/api/v1/cases/{ref}/actions/{action}", headers=headers, json=body or {})


@pytest.fixture
def case(client, login) -> dict:
    return report(client, login(ALICE))


def test_start_investigation_stops_the_clock_and_records_it_met(client, login, clock, case) -> None:
    clock.advance(minutes=10)
    response = act(client, login(ENG1), case["ref"], "start_investigation")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "investigating"
    assert body["owner"]["email"] == ENG1
    assert body["sla"]["status"] == "met"
    assert body["sla"]["business_seconds_taken"] == 600
    assert body["sla"]["met_at"] == "2026-11-25T10:10:00Z"
    event = body["timeline"][-1]
    assert event["kind"] == "investigation_started"
    assert event["actor"]["email"] == ENG1
    assert event["data"]["state"] == ["new", "investigating"]


def test_a_late_start_is_recorded_as_breached(client, login, clock, case) -> None:
    clock.advance(minutes=45)
    body = act(client, login(ENG1), case["ref"], "start_investigation").json()
    assert body["sla"]["status"] == "breached"
    assert body["sla"]["business_seconds_taken"] == 45 * 60


def test_a_running_clock_past_due_reads_breached(client, login, clock, case) -> None:
    clock.advance(minutes=31)
    body = client.get(f"/api/v1/cases/{case['ref']}", headers=login(ALICE)).json()
    assert body["sla"]["status"] == "breached"


def test_starting_twice_is_a_conflict(client, login, case) -> None:
    act(client, login(ENG1), case["ref"], "start_investigation")
    again = act(client, login(ENG1), case["ref"], "start_investigation")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"
    assert "investigating" in again.json()["error"]["message"]


def test_a_lead_assigns_and_an_engineer_only_takes_it_himself(client, login, case) -> None:
    assigned = act(client, login(LEAD), case["ref"], "assign", {"engineer": ENG2})
    assert assigned.status_code == 200
    assert assigned.json()["owner"]["email"] == ENG2
    assert assigned.json()["timeline"][-1]["data"]["owner"] == [None, ENG2]
    refused = act(client, login(ENG1), case["ref"], "assign", {"engineer": ENG2})
    assert refused.status_code == 403
    mine = act(client, login(ENG1), case["ref"], "assign", {"engineer": ENG1})
    assert mine.json()["owner"]["email"] == ENG1


def test_assigning_to_a_customer_is_refused(client, login, case) -> None:
    response = act(client, login(LEAD), case["ref"], "assign", {"engineer": BOB})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_engineer"


def test_assessing_overrides_severity_with_a_reason_and_resets_a_running_clock(
    client, login, case
) -> None:
    body = act(
        client,
        login(ENG1),
        case["ref"],
        "assess",
        {"severity": "S3", "reason": "Only the PDF export fails; a workaround exists."},
    ).json()
    assert body["severity"] == "S3"
    assert body["sla"]["target_seconds"] == 4 * 3600
    assert body["sla"]["due_at"] == "2026-11-25T14:00:00Z"
    assert body["severity_reasons"] == [
        "assessed by an engineer: Only the PDF export fails; a workaround exists."
    ]
    assert body["timeline"][-1]["data"]["severity"] == ["S1", "S3"]


def test_assessing_needs_a_reason_and_a_known_severity(client, login, case) -> None:
    eng = login(ENG1)
    assert (
        act(client, eng, case["ref"], "assess", {"severity": "S3", "reason": " "}).status_code
        == 422
    )
    assert (
        act(client, eng, case["ref"], "assess", {"severity": "S9", "reason": "x"}).status_code
        == 422
    )
    assert act(client, eng, case["ref"], "assess", {"severity": "S3"}).status_code == 422


def test_redirect_sends_the_customer_elsewhere_with_advice(client, login, case) -> None:
    body = act(
        client,
        login(ENG1),
        case["ref"],
        "redirect",
        {"target": "community_forum", "message": "A how-to question; the forum answers it."},
    ).json()
    assert body["state"] == "redirected"
    assert body["redirect"] == {
        "target": "community_forum",
        "message": "A how-to question; the forum answers it.",
        "links": [],
        "third_party": None,
    }

    seen = client.get(f"/api/v1/cases/{case['ref']}", headers=login(BOB)).json()
    assert seen["redirect"]["target"] == "community_forum"


def test_redirect_to_an_unknown_place_is_refused(client, login, case) -> None:
    response = act(client, login(ENG1), case["ref"], "redirect", {"target": "mars", "message": "x"})
    assert response.status_code == 422


def test_resolve_needs_an_outcome_then_the_customer_closes_or_reopens(client, login, case) -> None:
    eng, alice = login(ENG1), login(ALICE)
    act(client, eng, case["ref"], "start_investigation")
    assert act(client, eng, case["ref"], "resolve", {"outcomes": []}).status_code == 422
    resolved = act(
        client,
        eng,
        case["ref"],
        "resolve",
        {"outcomes": [{"type": "workaround_provided", "text": "Restart the Gateway."}]},
    )
    assert resolved.json()["state"] == "resolved"
    assert resolved.json()["outcomes"] == [
        {"type": "workaround_provided", "text": "Restart the Gateway.", "link": None}
    ]

    reopened = act(client, alice, case["ref"], "reopen", {"reason": "It failed again."})
    assert reopened.json()["state"] == "investigating"
    act(
        client,
        eng,
        case["ref"],
        "resolve",
        {"outcomes": [{"type": "resolution_advised", "text": "Upgrade to 10.4.3."}]},
    )
    closed = act(client, alice, case["ref"], "close")
    assert closed.json()["state"] == "closed"
    kinds = [e["kind"] for e in closed.json()["timeline"]]
    assert kinds == [
        "reported",
        "investigation_started",
        "resolved",
        "reopened",
        "resolved",
        "closed",
    ]


def test_reopening_a_new_case_is_a_conflict(client, login, case) -> None:
    response = act(client, login(ALICE), case["ref"], "reopen")
    assert response.status_code == 409


def test_customers_cannot_run_engineer_actions(client, login, case) -> None:
    alice = login(ALICE)
    for action, body in [
        ("start_investigation", {}),
        ("assign", {"engineer": ENG1}),
        ("assess", {"severity": "S1", "reason": "please"}),
        ("redirect", {"target": "documentation", "message": "x"}),
        ("resolve", {"outcomes": [{"type": "resolution_advised", "text": "x"}]}),
    ]:
        response = act(client, alice, case["ref"], action, body)
        assert response.status_code == 403, action
        assert response.json()["error"]["code"] == "engineers_only"


def test_an_account_manager_cannot_handle_cases(client, login, case) -> None:
    assert act(client, login(AM), case["ref"], "start_investigation").status_code == 403


def test_unknown_actions_and_malformed_refs_are_404(client, login, case) -> None:
    eng = login(ENG1)
    assert act(client, eng, case["ref"], "explode").status_code == 404
    assert client.get("/api/v1/cases/PCH-xyz", headers=eng).status_code == 404
    assert client.get("/api/v1/cases/PCH-999999", headers=eng).status_code == 404


def test_every_change_is_audited_with_before_and_after(client, login, database, case) -> None:
    from sqlalchemy import select

    from critdesk.audit.models import AuditEvent

    act(client, login(ENG1), case["ref"], "start_investigation")
    with database.session() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == case["ref"]).order_by(AuditEvent.id)
        ).all()
    assert [r.action for r in rows] == ["case.reported", "case.investigation_started"]
    assert rows[-1].data["state"] == ["new", "investigating"]
    assert rows[-1].actor_id is not None


def test_another_organisations_customer_cannot_act_on_the_case(client, login, case) -> None:
    for action in ("close", "reopen"):
        response = act(client, login(CAROL), case["ref"], action)
        assert response.status_code == 404


def test_the_audit_trail_keeps_a_digest_of_free_text_not_the_text(
    client, login, database, case
) -> None:
    import hashlib

    from sqlalchemy import select

    from critdesk.audit.models import AuditEvent

    words = "Call me on +44 20 7946 0958, my password is in the vault"
    response = client.post(
        f"/api/v1/cases/{case['ref']}/comments", headers=login(ENG1), json={"body": words}
    )
    assert response.status_code == 201, response.text
    with database.session() as session:
        [row] = session.scalars(
            select(AuditEvent).where(
                AuditEvent.object_id == case["ref"], AuditEvent.action == "case.comment"
            )
        ).all()
    assert "7946" not in str(row.data)  # an erase can scrub the timeline; the trail is fixed
    assert row.data["message_sha256"] == hashlib.sha256(words.encode()).hexdigest()
    assert row.data["message_chars"] == len(words)
