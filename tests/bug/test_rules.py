"""Bug rules: completeness, transitions, and the fix target of the Bug Fix Policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from critdesk.bug.rules import (
    DEFAULT_POLICY,
    BugTransitionRefused,
    check_transition,
    fix_target,
    missing_fields,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)
COMPLETE = {
    "steps_to_reproduce": "1. Open the portal",
    "expected": "200",
    "actual": "503",
    "affected_versions": ["10.4.2"],
    "environment": {"deployment_type": "cloud", "product_version": "10.4.2"},
}


def test_a_complete_report_misses_nothing() -> None:
    assert missing_fields(COMPLETE) == []


def test_it_names_exactly_what_is_missing() -> None:
    report = COMPLETE | {"expected": "  ", "affected_versions": [], "environment": {}}
    assert missing_fields(report) == [
        "expected behaviour",
        "at least one affected version",
        "the deployment type of the environment",
        "the product version of the environment",
    ]


@pytest.mark.parametrize(
    ("current", "target", "fix", "dup"),
    [
        ("new", "released", "10.5", None),
        ("fixed", "wont_fix", None, None),
        ("confirmed", "fixed", None, None),
        ("new", "duplicate", None, None),
    ],
)
def test_impossible_or_incomplete_transitions_are_refused(current, target, fix, dup) -> None:
    with pytest.raises(BugTransitionRefused):
        check_transition(current, target, fix_version=fix, duplicate_of=dup)


def test_a_fix_needs_its_version() -> None:
    check_transition("in_progress", "fixed", fix_version="10.4.3", duplicate_of=None)


def target(state: str, days_later: float, severity: str = "S1", fixed_after: float | None = None):  # type: ignore[no-untyped-def]
    fixed_at = T0 + timedelta(days=fixed_after) if fixed_after is not None else None
    return fix_target(
        DEFAULT_POLICY,
        severity=severity,
        submitted_at=T0,
        state=state,
        fixed_at=fixed_at,
        now=T0 + timedelta(days=days_later),
    )


def test_the_policy_sets_a_target_and_tracks_it() -> None:
    assert target("new", 1).due_at == T0 + timedelta(days=7)
    assert target("new", 1).status == "on_track"
    assert target("in_progress", 6).status == "at_risk"
    assert target("confirmed", 8).status == "overdue"
    assert target("fixed", 20, fixed_after=5).status == "met"
    assert target("released", 20, fixed_after=9).status == "missed"
    assert target("wont_fix", 20).status == "not_applicable"
    assert target("new", 1, severity="S4").description.startswith("next major")


def test_no_target_before_submission() -> None:
    result = fix_target(
        DEFAULT_POLICY, severity="S1", submitted_at=None, state="new", fixed_at=None, now=T0
    )
    assert result.status == "not_applicable" and result.due_at is None
