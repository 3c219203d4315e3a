"""The SLA clock over package calendars: start, warning at 75 %, due, status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from critdesk.calendar.rules import Calendar, twenty_four_seven
from critdesk.package.catalogue import EXAMPLE_PACKAGES
from critdesk.sla.rules import start_clock, status, used_share

BUSINESS = Calendar.from_spec(
    next(p for p in EXAMPLE_PACKAGES if p["code"] == "business")["calendar"]
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_friday_evening_report_starts_its_clock_on_monday_morning() -> None:
    clock = start_clock(BUSINESS, utc(2026, 11, 27, 18), 4 * 3600)
    assert clock.clock_starts_at == utc(2026, 11, 30, 9)
    assert clock.warn_at == utc(2026, 11, 30, 12)
    assert clock.due_at == utc(2026, 11, 30, 13)


def test_a_bank_holiday_monday_moves_the_start_to_tuesday() -> None:
    # 4 May 2026 is the early May bank holiday in England (BST: 09:00 local = 08:00 UTC).
    clock = start_clock(BUSINESS, utc(2026, 5, 1, 17), 4 * 3600)
    assert clock.clock_starts_at == utc(2026, 5, 5, 8)


def test_a_target_running_over_the_weekend_pauses_while_closed() -> None:
    clock = start_clock(BUSINESS, utc(2026, 11, 27, 16), 4 * 3600)  # Friday 16:00
    assert clock.due_at == utc(2026, 11, 30, 11, 30)  # 1.5 h Friday + 2.5 h Monday


def test_a_24x7_clock_runs_in_plain_elapsed_time() -> None:
    clock = start_clock(twenty_four_seven(), utc(2026, 3, 29, 0, 45), 1800)
    assert clock.clock_starts_at == utc(2026, 3, 29, 0, 45)
    assert clock.due_at == utc(2026, 3, 29, 1, 15)


def test_status_is_running_then_breached_and_frozen_once_met() -> None:
    due = utc(2026, 1, 1, 12)
    assert status(due_at=due, met_at=None, now=due - timedelta(seconds=1)) == "running"
    assert status(due_at=due, met_at=None, now=due) == "breached"
    assert status(due_at=due, met_at=due, now=due + timedelta(days=9)) == "met"
    assert status(due_at=due, met_at=due + timedelta(seconds=1), now=due) == "breached"


def test_used_share_counts_business_time_only() -> None:
    share = used_share(
        BUSINESS,
        reported_at=utc(2026, 11, 27, 17),
        target_seconds=4 * 3600,
        now=utc(2026, 11, 30, 10),
    )
    assert share == (0.5 + 1) / 4
