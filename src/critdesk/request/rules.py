"""Pure rules for info requests: what each kind must say, and the case state that follows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

ARTIFACT_TYPES = ("entity", "project", "workspace")
TEST_RESULTS = ("pass", "fail")


class RequestRuleError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def validate_details(kind: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """The kind-specific fields, checked and normalised; refuses what makes no sense."""
    if kind == "test":
        steps = [str(s).strip() for s in details.get("steps", []) if str(s).strip()]
        if not steps:
            raise RequestRuleError("steps_required", "a test request lists the steps to perform")
        return {"steps": steps, "expected": str(details.get("expected", "")).strip() or None}
    if kind == "logs":
        logs = [str(s).strip() for s in details.get("logs", []) if str(s).strip()]
        if not logs:
            raise RequestRuleError("logs_required", "say which logs you need")
        start, end = details.get("window_start"), details.get("window_end")
        if start is not None and end is not None and start >= end:
            raise RequestRuleError("invalid_window", "the log window must start before it ends")
        return {"logs": logs, "window_start": start, "window_end": end}
    if kind == "artifact":
        artifact = details.get("artifact_type")
        if artifact not in ARTIFACT_TYPES:
            raise RequestRuleError(
                "artifact_type_required", f"artifact_type must be one of {ARTIFACT_TYPES}"
            )
        return {"artifact_type": artifact, "name": str(details.get("name", "")).strip() or None}
    return {}


def check_answer(kind: str, test_result: str | None) -> None:
    if kind == "test" and test_result not in TEST_RESULTS:
        raise RequestRuleError(
            "test_result_required", "a test answer says whether it passed or failed"
        )
    if kind != "test" and test_result is not None:
        raise RequestRuleError("test_result_unexpected", "only test requests take a test result")


def reminder_due(
    *,
    due_at: datetime | None,
    last_reminded_at: datetime | None,
    now: datetime,
    every_seconds: int,
) -> bool:
    """An open request past its due time is reminded once, then at most once per interval."""
    if due_at is None or now < due_at:
        return False
    if last_reminded_at is None:
        return True
    return (now - last_reminded_at).total_seconds() >= every_seconds
