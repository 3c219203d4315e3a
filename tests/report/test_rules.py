"""The pure report rules: percentiles, SLA outcomes, periods, access, CSV and terminal tables."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from critdesk.case.rules import OPEN_STATES
from critdesk.report import rules, service

T = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([600, 1200, 2700, 10800], 0.5, 1950.0),  # between the 2nd and 3rd
        ([600, 1200, 2700, 10800], 0.9, 8370.0),  # 2700 + 0.7 × 8100
        ([600, 1200, 2700, 10800], 0.25, 1050.0),  # 600 + 0.75 × 600
        ([3600, 32400], 0.9, 29520.0),  # 3600 + 0.9 × 28800
        ([5], 0.9, 5.0),
        ([1, 2, 3], 0.0, 1.0),
        ([1, 2, 3], 1.0, 3.0),
        ([], 0.5, None),
    ],
)
def test_percentile_interpolates_like_postgresql(values, share, expected) -> None:
    assert rules.percentile(values, share) == (
        None if expected is None else pytest.approx(expected)
    )


def test_a_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError):
        rules.percentile([1.0], 1.5)


@given(st.lists(st.integers(0, 10**7), min_size=1, max_size=60), st.floats(0, 1))
def test_a_percentile_lies_within_the_values_and_grows_with_the_share(values, share) -> None:
    ordered = sorted(values)
    found = rules.percentile(ordered, share)
    assert found is not None
    assert ordered[0] <= found <= ordered[-1]
    higher = rules.percentile(ordered, min(1.0, share + 0.1))
    assert higher is not None and higher >= found - 1e-6


def test_a_distribution_names_every_figure() -> None:
    assert rules.distribution([3600, 32400]) == {
        "cases": 2,
        "min_seconds": 3600.0,
        "p25_seconds": 10800.0,
        "median_seconds": 18000.0,
        "p75_seconds": 25200.0,
        "p90_seconds": 29520.0,
        "max_seconds": 32400.0,
    }
    empty = rules.distribution([])
    assert empty["cases"] == 0 and empty["median_seconds"] is None


@pytest.mark.parametrize(
    ("state", "met_at", "now", "expected"),
    [
        ("investigating", T - timedelta(minutes=1), T, "met"),
        ("investigating", T, T, "met"),  # exactly on time
        ("resolved", T + timedelta(seconds=1), T, "breached"),
        ("new", None, T - timedelta(seconds=1), "running"),
        ("new", None, T, "breached"),  # due now: the breach sweep fires
        ("redirected", None, T + timedelta(days=9), None),  # redirected before anyone looked
        ("closed", None, T + timedelta(days=9), None),
        ("redirected", T - timedelta(hours=1), T, "met"),  # investigated, then redirected
    ],
)
def test_the_sla_outcome_follows_the_desks_clock(state, met_at, now, expected) -> None:
    assert rules.sla_outcome(state=state, due_at=T, met_at=met_at, now=now) == expected


def test_the_met_rate_counts_only_decided_clocks() -> None:
    assert rules.sla_figures(2, 1, 5) == {
        "cases": 8,
        "met": 2,
        "breached": 1,
        "running": 5,
        "met_rate": 0.6667,
    }
    assert rules.met_rate(0, 0) is None


def test_a_month_is_read_in_utc() -> None:
    assert rules.month_bounds("2026-10") == (
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2026, 11, 1, tzinfo=UTC),
    )
    assert rules.month_bounds("2026-12")[1] == datetime(2027, 1, 1, tzinfo=UTC)
    for bad in ("2026-13", "2026-1", "October", "9999-12", "0000-01"):
        with pytest.raises(rules.BadPeriod):
            rules.month_bounds(bad)


def test_moments_are_dates_or_iso_times_in_utc() -> None:
    assert rules.parse_moment("2026-10-01", "from") == datetime(2026, 10, 1, tzinfo=UTC)
    assert rules.parse_moment("2026-10-01T10:00:00Z", "from") == datetime(
        2026, 10, 1, 10, tzinfo=UTC
    )
    assert rules.parse_moment("2026-10-01T11:00:00+01:00", "from") == datetime(
        2026, 10, 1, 10, tzinfo=UTC
    )
    assert rules.parse_moment("2026-10-01T10:00:00", "from") == datetime(
        2026, 10, 1, 10, tzinfo=UTC
    )
    assert rules.parse_moment("", "from") is None
    assert rules.parse_moment(None, "from") is None
    for bad in ("yesterday", "2026-02-30", "2026-10-01T25:00"):
        with pytest.raises(rules.BadPeriod):
            rules.parse_moment(bad, "from")
    with pytest.raises(rules.BadPeriod):
        rules.check_period(T, T)


def test_the_dashboard_default_start_is_the_first_of_a_month() -> None:
    assert rules.default_dashboard_start(T, 12) == datetime(2025, 11, 1, tzinfo=UTC)
    assert rules.default_dashboard_start(T, 1) == datetime(2026, 10, 1, tzinfo=UTC)


def test_customers_read_no_report_and_customer_admins_only_their_records() -> None:
    for spec in rules.SPECS.values():
        with pytest.raises(rules.NotAllowed) as refused:
            rules.reach("customer", spec)
        assert refused.value.code == "customer_admins_only"
        assert rules.reach("lead", spec) == rules.reach("admin", spec) == "all"
    admin_reports = {spec.name for spec in rules.readable("customer_admin")}
    assert admin_reports == {
        "sla",
        "sla-monthly",
        "time-to-investigate",
        "time-to-resolution",
        "open-cases",
        "root-causes",
    }
    assert rules.reach("customer_admin", rules.SPECS["sla"]) == "own"
    with pytest.raises(rules.NotAllowed) as refused:
        rules.reach("customer_admin", rules.SPECS["engineer-load"])
    assert refused.value.code == "not_for_customers"


def test_account_managers_read_every_report_of_their_organisations() -> None:
    assert [s.name for s in rules.readable("account_manager")] == list(rules.SPECS)
    assert {rules.reach("account_manager", s) for s in rules.SPECS.values()} == {"managed"}


def test_engineers_read_the_desks_figures_but_not_the_acceptable_use_records() -> None:
    names = {s.name for s in rules.readable("engineer")}
    assert names == set(rules.SPECS) - {"acceptable-use", "referrals"}


def test_every_report_has_a_query_and_the_open_states_match_the_cases() -> None:
    assert set(service.BUILDERS) == set(rules.SPECS)
    assert set(rules.OPEN_STATES) == set(OPEN_STATES)


def test_csv_has_the_columns_in_order_and_never_a_formula() -> None:
    text = rules.to_csv(
        ("organisation", "cases", "met_rate", "since"),
        [
            {"organisation": '=HYPERLINK("x")', "cases": 3, "met_rate": None, "since": T},
            {"organisation": "Plain, Ltd", "cases": 0, "met_rate": 0.5},
        ],
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["organisation", "cases", "met_rate", "since"],
        ['\'=HYPERLINK("x")', "3", "", "2026-10-01T12:00:00Z"],
        ["Plain, Ltd", "0", "0.5", ""],
    ]
    assert text.endswith("\r\n")


def test_the_terminal_table_aligns_numbers_right_and_text_left() -> None:
    table = rules.text_table(
        ("organisation", "cases", "met_rate"),
        [
            {"organisation": "Contoso Health", "cases": 12, "met_rate": 0.5},
            {"organisation": "Northwind", "cases": 3, "met_rate": None},
        ],
    )
    lines = table.splitlines()
    assert lines[0] == "organisation    cases  met_rate"
    assert lines[1] == "--------------  -----  --------"
    assert lines[2] == "Contoso Health     12       0.5"
    assert lines[3] == "Northwind           3         -"
