"""Request ids: which are kept, which replaced, and how jobs bind them."""

from __future__ import annotations

import pytest

from critdesk.observability.context import (
    accept_request_id,
    bound_request_id,
    current_job,
    current_request_id,
    in_job,
    job_scope,
)


@pytest.mark.parametrize(
    "sent",
    ["abc-123", "0f3c9a2e7b1d4c5e8f6a0b1c2d3e4f5a", "req:7@edge/1+2=3", "a.b_c-d"],
)
def test_a_sane_request_id_is_kept(sent: str) -> None:
    assert accept_request_id(sent) == sent


@pytest.mark.parametrize(
    "sent",
    [None, "", "with space", "x" * 65, "line\nbreak", 'quote"d', "<script>", "é-accent"],
)
def test_anything_else_is_replaced_by_a_fresh_id(sent: str | None) -> None:
    replaced = accept_request_id(sent)
    assert replaced != sent
    assert len(replaced) == 32 and int(replaced, 16) >= 0


def test_a_bound_id_is_visible_inside_and_gone_after() -> None:
    assert current_request_id() is None
    with bound_request_id("outer"):
        assert current_request_id() == "outer"
        with bound_request_id(None):
            assert current_request_id() == "outer"
        with bound_request_id("inner"):
            assert current_request_id() == "inner"
        assert current_request_id() == "outer"
    assert current_request_id() is None


def test_a_job_gets_its_own_id_unless_its_work_kept_one() -> None:
    with job_scope("deliver") as fresh:
        assert fresh.startswith("job-") and current_request_id() == fresh
        assert current_job() == "deliver"
    with job_scope("log_analysis", request_id="req-9") as kept:
        assert kept == "req-9" == current_request_id()
    assert current_job() is None and current_request_id() is None


def test_a_job_function_runs_in_its_scope() -> None:
    seen: list[tuple[str | None, str | None]] = []

    @in_job("sweeps")
    def sweep(x: int) -> int:
        seen.append((current_job(), current_request_id()))
        return x * 2

    assert sweep(21) == 42
    job, request_id = seen[0]
    assert job == "sweeps" and request_id is not None and request_id.startswith("job-")
