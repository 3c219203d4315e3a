"""Intake rules: severity and qualification from impact × breadth, and the state machine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from critdesk.case.rules import (
    BREADTHS,
    STATES,
    TRANSITIONS,
    Impact,
    Report,
    TransitionRefused,
    assess_severity,
    next_state,
    qualify,
)


def report(
    production: bool = True, breadth: str = "all_users", blocked: bool = True, **impact: bool
) -> Report:
    return Report(Impact(**impact), breadth, blocked, production)


@pytest.mark.parametrize(
    ("case", "severity"),
    [
        (report(app_unavailable=True), "S1"),
        (report(production=False, security_vulnerability=True, blocked=False), "S1"),
        (report(production=False, data_loss=True, blocked=False), "S1"),
        (report(breadth="particular_circumstance", blocked=False, data_loss=True), "S1"),
        (report(breadth="end_users", app_unavailable=True), "S2"),
        (report(breadth="all_users"), "S2"),
        (report(breadth="end_users"), "S2"),
        (report(breadth="particular_circumstance"), "S3"),
        (report(blocked=False, degraded=True), "S3"),
        (report(production=False, app_unavailable=True), "S4"),
        (report(blocked=False), "S4"),
    ],
)
def test_it_grades_severity_from_impact_and_breadth(case: Report, severity: str) -> None:
    decision = assess_severity(case)
    assert decision.severity == severity
    assert decision.reasons


def test_production_with_blocked_end_users_is_critical() -> None:
    result = qualify(report())
    assert result.status == "critical"
    assert "production environment" in result.reasons


def test_non_production_is_not_critical_and_suggests_the_support_helpdesk() -> None:
    result = qualify(report(production=False, app_unavailable=True))
    assert result.status == "not_critical"
    assert result.suggested_redirect == "support_helpdesk"
    assert "not production" in result.reasons[0]


def test_journeys_still_completing_is_not_critical() -> None:
    assert qualify(report(blocked=False, degraded=True)).status == "not_critical"
    assert qualify(report(blocked=False)).status == "not_critical"


def test_a_security_vulnerability_is_critical_anywhere() -> None:
    assert qualify(report(production=False, security_vulnerability=True)).status == "critical"


impacts = st.builds(Impact, st.booleans(), st.booleans(), st.booleans(), st.booleans())


@given(impacts, st.sampled_from(BREADTHS), st.booleans(), st.booleans())
def test_every_answer_gets_a_severity_and_a_qualification_with_reasons(
    impact: Impact, breadth: str, blocked: bool, production: bool
) -> None:
    case = Report(impact, breadth, blocked, production)
    severity = assess_severity(case)
    qualification = qualify(case)
    assert severity.severity in ("S1", "S2", "S3", "S4") and severity.reasons
    assert qualification.status in ("critical", "not_critical") and qualification.reasons
    assert (qualification.status == "not_critical") == (
        qualification.suggested_redirect is not None
    )
    if impact.security_vulnerability or impact.data_loss:
        assert severity.severity == "S1"


@pytest.mark.parametrize(
    ("action", "state", "expected"),
    [
        ("start_investigation", "new", "investigating"),
        ("assign", "awaiting_customer", "awaiting_customer"),
        ("redirect", "new", "redirected"),
        ("resolve", "investigating", "resolved"),
        ("resolve", "awaiting_customer", "resolved"),
        ("close", "resolved", "closed"),
        ("close", "redirected", "closed"),
    ],
)
def test_allowed_transitions(action: str, state: str, expected: str) -> None:
    assert next_state(action, state) == expected


def test_reopening_returns_to_where_the_work_stood() -> None:
    assert next_state("reopen", "resolved", investigated=True) == "investigating"
    assert next_state("reopen", "redirected", investigated=False) == "new"
    assert next_state("reopen", "closed", investigated=True) == "investigating"


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_every_impossible_transition_is_refused_with_a_message(action: str) -> None:
    allowed, _ = TRANSITIONS[action]
    for state in set(STATES) - allowed:
        with pytest.raises(TransitionRefused) as refused:
            next_state(action, state)
        assert state in refused.value.message and "allowed from" in refused.value.message


def test_a_new_case_cannot_be_reopened_or_resolved() -> None:
    with pytest.raises(TransitionRefused):
        next_state("reopen", "new")
    with pytest.raises(TransitionRefused):
        next_state("resolve", "new")
