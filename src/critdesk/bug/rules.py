"""Pure rules for bug reports: completeness, the state machine, and the Bug Fix Policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

COMPLETENESS = (
    ("steps_to_reproduce", "steps to reproduce"),
    ("expected", "expected behaviour"),
    ("actual", "actual behaviour"),
    ("affected_versions", "at least one affected version"),
    ("environment.deployment_type", "the deployment type of the environment"),
    ("environment.product_version", "the product version of the environment"),
)

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"confirmed", "in_progress", "wont_fix", "duplicate"}),
    "confirmed": frozenset({"in_progress", "fixed", "wont_fix", "duplicate"}),
    "in_progress": frozenset({"fixed", "wont_fix", "duplicate", "confirmed"}),
    "fixed": frozenset({"released", "in_progress"}),
    "released": frozenset({"in_progress"}),
    "wont_fix": frozenset({"confirmed"}),
    "duplicate": frozenset({"new"}),
}
CLOSING_STATES = frozenset({"fixed", "released"})
NO_TARGET_STATES = frozenset({"wont_fix", "duplicate"})


def missing_fields(report: Mapping[str, Any]) -> list[str]:
    """What a report still lacks before development can reproduce it (empty: complete)."""
    missing = []
    for path, label in COMPLETENESS:
        value: Any = report
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, str):
            value = value.strip()
        if not value:
            missing.append(label)
    return missing


class BugTransitionRefused(ValueError):
    pass


def check_transition(
    current: str, target: str, *, fix_version: str | None, duplicate_of: int | None
) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "nothing"
        raise BugTransitionRefused(f"a {current} bug cannot become {target}; allowed: {allowed}")
    if target in CLOSING_STATES and not (fix_version or "").strip():
        raise BugTransitionRefused(f"a {target} bug names its fix version")
    if target == "duplicate" and duplicate_of is None:
        raise BugTransitionRefused("a duplicate names the bug it duplicates")


@dataclass(frozen=True, slots=True)
class FixPolicy:
    severity: str
    target: str  # hotfix | next_minor | next_major
    days: int
    description: str


DEFAULT_POLICY = (
    FixPolicy("S1", "hotfix", 7, "hotfix within 7 days"),
    FixPolicy("S2", "hotfix", 30, "hotfix within 30 days"),
    FixPolicy("S3", "next_minor", 90, "next minor release (within 90 days)"),
    FixPolicy("S4", "next_major", 180, "next major release (within 180 days)"),
)


@dataclass(frozen=True, slots=True)
class FixTarget:
    due_at: datetime | None
    description: str
    status: str  # on_track | at_risk | overdue | met | missed | not_applicable


def fix_target(
    policy: Sequence[FixPolicy],
    *,
    severity: str,
    submitted_at: datetime | None,
    state: str,
    fixed_at: datetime | None,
    now: datetime,
) -> FixTarget:
    """The target the policy sets for this bug, and whether it is on track."""
    rule = next((p for p in policy if p.severity == severity), None)
    if rule is None or submitted_at is None:
        return FixTarget(None, "no target until the report is submitted", "not_applicable")
    due = submitted_at + timedelta(days=rule.days)
    if state in NO_TARGET_STATES:
        return FixTarget(due, rule.description, "not_applicable")
    if state in CLOSING_STATES:
        done = fixed_at or now
        return FixTarget(due, rule.description, "met" if done <= due else "missed")
    if now > due:
        return FixTarget(due, rule.description, "overdue")
    used = (now - submitted_at) / (due - submitted_at)
    return FixTarget(due, rule.description, "at_risk" if used >= 0.75 else "on_track")
