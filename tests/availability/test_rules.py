"""Open now, or when next: across a weekend, a bank holiday and a package open around the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from critdesk.availability import rules
from critdesk.calendar.rules import Calendar, twenty_four_seven
from critdesk.package.catalogue import EXAMPLE_PACKAGES

BUSINESS, PREMIUM = (
    Calendar.from_spec(next(p for p in EXAMPLE_PACKAGES if p["code"] == code)["calendar"])
    for code in ("business", "premium")
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("calendar", "now", "open_now", "next_open", "closes"),
    [
        # Wednesday 10:00 London: open until 17:30.
        (BUSINESS, "2026-11-25 10:00", True, None, "2026-11-25 17:30"),
        # Friday 18:00: closed for the weekend, open again Monday 09:00.
        (BUSINESS, "2026-11-27 18:00", False, "2026-11-30 09:00", None),
        (BUSINESS, "2026-11-28 12:00", False, "2026-11-30 09:00", None),
        # Christmas Eve evening: Christmas (Fri), Boxing Day moved to Monday 28 → Tuesday 29.
        (BUSINESS, "2026-12-24 18:00", False, "2026-12-29 09:00", None),
        # British Summer Time: 09:00 London is 08:00 UTC.
        (BUSINESS, "2026-06-05 17:00", False, "2026-06-08 08:00", None),
        # Premium opens on Saturdays (07:00–22:00) but not on Sundays.
        (PREMIUM, "2026-11-28 10:00", True, None, "2026-11-28 22:00"),
        (PREMIUM, "2026-11-29 10:00", False, "2026-11-30 07:00", None),
        (twenty_four_seven(), "2026-12-25 03:00", True, None, None),
    ],
)
def test_the_desk_is_open_or_opens_next(calendar, now, open_now, next_open, closes) -> None:
    state = rules.availability(calendar, at(now))
    assert state.open_now is open_now
    assert state.next_open_at == (at(next_open) if next_open else None)
    assert state.closes_at == (at(closes) if closes else None)


def test_the_headline_names_the_local_opening() -> None:
    friday = at("2026-11-27 18:00")
    state = rules.availability(BUSINESS, friday)
    assert rules.headline(state, "Europe/London", friday) == (
        "Closed — an engineer starts investigating from Mon 09:00 (London)"
    )
    assert rules.headline(rules.availability(BUSINESS, at("2026-11-25 10:00")), "x", friday) == (
        "The desk is open now"
    )


def test_an_opening_more_than_a_week_away_gives_its_date() -> None:
    closed = Calendar.from_spec(
        BUSINESS.to_spec() | {"closed_days": [f"2026-12-{d:02d}" for d in range(1, 12)]}
    )
    assert closed.closed_days and date(2026, 12, 1) in closed.closed_days
    now = at("2026-11-30 18:00")
    state = rules.availability(closed, now)
    assert (
        rules.local_moment(state.next_open_at, "Europe/London", now) == "Mon 14 Dec 09:00 (London)"
    )


def test_a_calendar_that_never_opens_has_no_next_opening() -> None:
    never = Calendar.from_spec({"timezone": "Europe/London", "hours": {}})
    assert rules.availability(never, at("2026-11-25 10:00")) == rules.Availability(
        False, None, None
    )
