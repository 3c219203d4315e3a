"""The queue score: severity first, then breach, waiting, share of SLA used, package weight."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from critdesk.queue.rules import QueueFacts, score


def facts(
    severity: str = "S2",
    waiting: bool = True,
    used: float = 0.5,
    weight: float = 2.0,
    target: int = 3600,
) -> QueueFacts:
    return QueueFacts(severity, waiting, used, "Premium", weight, target)


def test_it_explains_every_component_of_the_score() -> None:
    result = score(facts(severity="S1", used=0.25, weight=3.0, target=1800))
    assert result.value == 4000 + 300 + 50 + 60
    assert result.explanation == (
        "S1 (+4000)",
        "waiting for an engineer (+300)",
        "25% of the 30m start-investigating target used (+50)",
        "Premium package weight 3 (+60)",
    )


def test_a_breached_case_outranks_everything_of_its_severity() -> None:
    breached = score(facts(used=1.0, weight=0.0))
    fresh_heavy = score(facts(used=0.99, weight=10.0))
    assert breached.value > fresh_heavy.value
    assert "SLA breached (+300)" in breached.explanation


def test_waiting_cases_outrank_cases_already_being_worked() -> None:
    assert score(facts(used=0.0, weight=0.0)).value > score(facts(waiting=False, weight=10)).value


severity = st.sampled_from(["S1", "S2", "S3", "S4"])
share = st.floats(min_value=0, max_value=3, allow_nan=False)
weight = st.floats(min_value=0, max_value=10, allow_nan=False)


@given(severity, st.booleans(), share, weight, st.booleans(), share, weight)
def test_a_higher_severity_always_ranks_higher(
    sev: str,
    waiting_a: bool,
    used_a: float,
    weight_a: float,
    waiting_b: bool,
    used_b: float,
    weight_b: float,
) -> None:
    order = ["S1", "S2", "S3", "S4"]
    lower = order[min(order.index(sev) + 1, 3)]
    if lower == sev:
        return
    high = score(facts(sev, waiting_a, used_a, weight_a))
    low = score(facts(lower, waiting_b, used_b, weight_b))
    assert high.value > low.value


@given(share, share, weight)
def test_more_of_the_sla_used_never_ranks_lower(used_a: float, used_b: float, w: float) -> None:
    a, b = sorted((used_a, used_b))
    assert score(facts(used=a, weight=w)).value <= score(facts(used=b, weight=w)).value
