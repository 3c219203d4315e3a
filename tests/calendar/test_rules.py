"""Business-calendar math: concrete cases for the support packages, then properties."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critdesk.calendar.rules import (
    Calendar,
    CalendarSpecError,
    add_business_time,
    business_time_between,
    is_open,
    next_opening,
    open_intervals,
    twenty_four_seven,
    weekly,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
MICROSECOND = timedelta(microseconds=1)

BUSINESS = weekly(
    "Europe/London",
    "mon-fri",
    "09:00",
    "17:30",
    holiday_country="GB",
    holiday_subdivision="ENG",
)
LONG_DAYS = weekly("America/New_York", "mon-sat", "07:00", "22:00", holiday_country="US")
LUNCH_BREAK = Calendar.from_spec(
    {"timezone": "Europe/London", "hours": {"mon": ["09:00-12:00", "13:00-17:30"]}}
)
EVENINGS = Calendar.from_spec(
    {
        "timezone": "Europe/London",
        "hours": {"fri": ["18:00-24:00"], "sat": ["00:00-06:00", "22:00-24:00"]},
    }
)
NEVER_OPEN = Calendar.from_spec({"timezone": "UTC", "hours": {}})


def london(*parts: int) -> datetime:
    """A London wall-clock time from (year, month, day[, hour, minute, second, microsecond])."""
    year, month, day, hour, minute, second, microsecond = (*parts, 0, 0, 0, 0)[:7]
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=LONDON)


def new_york(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=NEW_YORK)


def hours(amount: float) -> timedelta:
    return timedelta(hours=amount)


# Business package: Mon-Fri 09:00-17:30 Europe/London with England's bank holidays.


@pytest.mark.parametrize(
    ("reported", "clock_starts"),
    [
        pytest.param(london(2026, 1, 9, 18), london(2026, 1, 12, 9), id="friday-evening"),
        pytest.param(london(2026, 1, 10, 11), london(2026, 1, 12, 9), id="saturday"),
        pytest.param(london(2026, 1, 7, 8, 59), london(2026, 1, 7, 9), id="before-opening"),
        pytest.param(london(2026, 1, 7, 17, 30), london(2026, 1, 8, 9), id="at-closing"),
        pytest.param(london(2026, 5, 1, 18), london(2026, 5, 5, 9), id="early-may-bank-holiday"),
        pytest.param(london(2026, 4, 2, 18), london(2026, 4, 7, 9), id="easter"),
        pytest.param(london(2026, 12, 24, 18), london(2026, 12, 29, 9), id="christmas-boxing-day"),
    ],
)
def test_it_starts_the_clock_at_next_opening(reported: datetime, clock_starts: datetime) -> None:
    assert next_opening(BUSINESS, reported) == clock_starts
    assert add_business_time(BUSINESS, reported, timedelta(0)) == clock_starts


def test_it_starts_the_clock_at_once_when_open() -> None:
    reported = london(2026, 1, 7, 10, 15, 30, 123)
    assert next_opening(BUSINESS, reported) == reported


def test_it_returns_aware_utc_datetimes() -> None:
    results = [
        next_opening(BUSINESS, london(2026, 7, 3, 18)),
        add_business_time(BUSINESS, london(2026, 7, 3, 16), hours(4)),
        add_business_time(twenty_four_seven("Europe/London"), london(2026, 7, 3), hours(4)),
        *(
            moment
            for pair in open_intervals(BUSINESS, london(2026, 7, 1), london(2026, 7, 8))
            for moment in pair
        ),
    ]
    assert all(result.tzinfo is UTC for result in results)
    assert results[0] == datetime(2026, 7, 6, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        pytest.param(london(2026, 1, 9, 16), hours(4), london(2026, 1, 12, 11, 30), id="weekend"),
        pytest.param(london(2026, 1, 9, 17), hours(4), london(2026, 1, 12, 12, 30), id="late"),
        pytest.param(london(2026, 1, 9, 16), hours(1.5), london(2026, 1, 9, 17, 30), id="to-close"),
        pytest.param(london(2026, 1, 9, 18), hours(1), london(2026, 1, 12, 10), id="after-close"),
        pytest.param(london(2026, 1, 12, 9), hours(24), london(2026, 1, 14, 16), id="three-days"),
        pytest.param(london(2026, 5, 1, 16), hours(4), london(2026, 5, 5, 11, 30), id="may-day"),
        pytest.param(london(2026, 12, 24, 16), hours(4), london(2026, 12, 29, 11, 30), id="xmas"),
        pytest.param(london(2026, 3, 27, 16), hours(4), london(2026, 3, 30, 11, 30), id="to-bst"),
        pytest.param(london(2026, 10, 23, 16), hours(4), london(2026, 10, 26, 11, 30), id="to-gmt"),
    ],
)
def test_it_adds_business_time_only_while_open(
    start: datetime, duration: timedelta, due: datetime
) -> None:
    assert add_business_time(BUSINESS, start, duration) == due
    assert business_time_between(BUSINESS, start, due) == duration


@pytest.mark.parametrize(
    ("a", "b", "elapsed"),
    [
        pytest.param(london(2026, 1, 12), london(2026, 1, 19), hours(42.5), id="whole-week"),
        pytest.param(london(2026, 5, 4), london(2026, 5, 11), hours(34), id="bank-holiday-week"),
        pytest.param(london(2026, 1, 12, 10), london(2026, 1, 12, 11), hours(1), id="inside"),
        pytest.param(london(2026, 1, 10), london(2026, 1, 11), hours(0), id="weekend"),
        pytest.param(london(2026, 1, 13), london(2026, 1, 12), hours(0), id="backwards"),
        pytest.param(london(2026, 1, 12, 10), london(2026, 1, 12, 10), hours(0), id="empty"),
    ],
)
def test_it_measures_business_time_between_two_instants(
    a: datetime, b: datetime, elapsed: timedelta
) -> None:
    assert business_time_between(BUSINESS, a, b) == elapsed


def test_it_lists_open_intervals_clipped_to_the_range() -> None:
    intervals = list(open_intervals(BUSINESS, london(2026, 5, 1, 12), london(2026, 5, 5, 10)))
    assert intervals == [
        (london(2026, 5, 1, 12), london(2026, 5, 1, 17, 30)),
        (london(2026, 5, 5, 9), london(2026, 5, 5, 10)),
    ]
    assert list(open_intervals(BUSINESS, london(2026, 5, 5), london(2026, 5, 1))) == []


def test_it_treats_opening_as_open_and_closing_as_closed() -> None:
    assert is_open(BUSINESS, london(2026, 1, 7, 9))
    assert is_open(BUSINESS, london(2026, 1, 7, 17, 29, 59, 999999))
    assert not is_open(BUSINESS, london(2026, 1, 7, 17, 30))
    assert not is_open(BUSINESS, london(2026, 5, 4, 12))


# 24x7 and the clocks changing.


@pytest.mark.parametrize(
    ("day", "length"),
    [
        pytest.param(date(2026, 3, 29), hours(23), id="spring-forward"),
        pytest.param(date(2026, 10, 25), hours(25), id="fall-back"),
        pytest.param(date(2026, 6, 1), hours(24), id="ordinary"),
    ],
)
def test_a_24x7_day_lasts_as_long_as_the_clocks_say(day: date, length: timedelta) -> None:
    start = datetime.combine(day, time(0), tzinfo=LONDON)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)
    # The same hours with a closed day far away exercise the day-by-day path.
    day_by_day = Calendar.from_spec(
        {**twenty_four_seven("Europe/London").to_spec(), "closed_days": ["2099-01-01"]}
    )
    for cal in (twenty_four_seven("Europe/London"), day_by_day):
        assert business_time_between(cal, start, end) == length
        assert add_business_time(cal, start, length) == end
        assert list(open_intervals(cal, start, end)) == [(start, end)]


@pytest.mark.parametrize(
    ("start", "due"),
    [
        pytest.param(london(2026, 3, 28, 12), london(2026, 3, 29, 13), id="spring-forward"),
        pytest.param(london(2026, 10, 24, 12), london(2026, 10, 25, 11), id="fall-back"),
    ],
)
def test_24x7_adds_real_elapsed_time(start: datetime, due: datetime) -> None:
    cal = twenty_four_seven("Europe/London")
    assert add_business_time(cal, start, hours(24)) == due
    assert is_open(cal, start)
    assert next_opening(cal, start) == start
    assert cal.always_open
    assert cal.describe() == "24x7"


SPRING_FORWARD = date(2026, 3, 29)
FALL_BACK = date(2026, 10, 25)


@pytest.mark.parametrize(
    ("intervals", "day", "length"),
    [
        # 01:00 does not exist that night; it is read with the offset before the change.
        pytest.param(["01:00-03:00"], SPRING_FORWARD, hours(1), id="gap"),
        # Both ends in the gap share one offset, so the interval keeps its length.
        pytest.param(["01:30-01:45"], SPRING_FORWARD, hours(0.25), id="inside-gap"),
        # 01:30 reads as 02:30 BST, after 02:15 BST, so the interval collapses to nothing.
        pytest.param(["01:30-02:15"], SPRING_FORWARD, hours(0), id="collapsed"),
        # The second interval starts at 01:15 UTC, inside the first, and is cut to follow it.
        pytest.param(["00:00-01:30", "02:15-05:00"], SPRING_FORWARD, hours(4), id="overlapping"),
        # 01:00 happens twice that night; the interval starts at the first one.
        pytest.param(["01:00-02:00"], FALL_BACK, hours(2), id="repeated-hour"),
        pytest.param(["09:00-17:30"], SPRING_FORWARD, hours(8.5), id="day-of-change"),
        pytest.param(["22:00-24:00"], date(2026, 3, 28), hours(2), id="night-before"),
    ],
)
def test_it_keeps_intervals_well_defined_when_the_clocks_change(
    intervals: list[str], day: date, length: timedelta
) -> None:
    cal = Calendar.from_spec(
        {"timezone": "Europe/London", "hours": {"sat": intervals, "sun": intervals}}
    )
    start = datetime.combine(day, time(0), tzinfo=LONDON)
    end = start + timedelta(days=1)
    assert business_time_between(cal, start, end) == length
    found = list(open_intervals(cal, start, end))
    assert all(a < b for a, b in found)
    assert all(b < c for (_, b), (c, _) in itertools.pairwise(found))


# Other shapes of week.


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        pytest.param(new_york(2026, 1, 10, 21), hours(2), new_york(2026, 1, 12, 8), id="sunday"),
        pytest.param(new_york(2026, 1, 11, 12), hours(0), new_york(2026, 1, 12, 7), id="opening"),
        pytest.param(new_york(2026, 1, 12, 6), hours(15), new_york(2026, 1, 12, 22), id="long-day"),
        pytest.param(new_york(2026, 1, 16, 21), hours(2), new_york(2026, 1, 17, 8), id="saturday"),
        pytest.param(new_york(2026, 1, 17, 21), hours(2), new_york(2026, 1, 20, 8), id="mlk-day"),
    ],
)
def test_a_long_monday_to_saturday_week(
    start: datetime, duration: timedelta, due: datetime
) -> None:
    assert add_business_time(LONG_DAYS, start, duration) == due


def test_a_long_week_has_ninety_hours() -> None:
    assert business_time_between(LONG_DAYS, new_york(2026, 2, 2), new_york(2026, 2, 9)) == hours(90)
    assert (
        LONG_DAYS.describe() == "Mon\u2013Sat 07:00\u201322:00 America/New_York, US public holidays"
    )


def test_an_interval_can_run_until_midnight() -> None:
    assert is_open(EVENINGS, london(2026, 1, 9, 23, 59, 59, 999999))
    assert is_open(EVENINGS, london(2026, 1, 10, 0))
    assert not is_open(EVENINGS, london(2026, 1, 10, 6))
    assert add_business_time(EVENINGS, london(2026, 1, 9, 23), hours(2)) == london(2026, 1, 10, 1)
    assert add_business_time(EVENINGS, london(2026, 1, 10, 5), hours(3)) == london(2026, 1, 11)
    assert list(open_intervals(EVENINGS, london(2026, 1, 9), london(2026, 1, 11))) == [
        (london(2026, 1, 9, 18), london(2026, 1, 10, 6)),
        (london(2026, 1, 10, 22), london(2026, 1, 11)),
    ]


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        pytest.param(london(2026, 1, 12, 11), hours(1), london(2026, 1, 12, 12), id="to-lunch"),
        pytest.param(london(2026, 1, 12, 11), hours(3), london(2026, 1, 12, 15), id="over-lunch"),
        pytest.param(london(2026, 1, 12, 12, 30), hours(0), london(2026, 1, 12, 13), id="in-lunch"),
        pytest.param(london(2026, 1, 12, 17), hours(1), london(2026, 1, 19, 9, 30), id="next-week"),
    ],
)
def test_a_lunch_break_splits_the_day(start: datetime, duration: timedelta, due: datetime) -> None:
    assert add_business_time(LUNCH_BREAK, start, duration) == due


def test_a_lunch_break_gives_two_intervals() -> None:
    day = list(open_intervals(LUNCH_BREAK, london(2026, 1, 12), london(2026, 1, 13)))
    assert day == [
        (london(2026, 1, 12, 9), london(2026, 1, 12, 12)),
        (london(2026, 1, 12, 13), london(2026, 1, 12, 17, 30)),
    ]
    assert business_time_between(LUNCH_BREAK, *day[0][:1], day[-1][1]) == hours(7.5)
    assert LUNCH_BREAK.describe() == "Mon 09:00\u201312:00, 13:00\u201317:30 Europe/London"


def test_closed_days_close_the_desk() -> None:
    cal = Calendar.from_spec({**BUSINESS.to_spec(), "closed_days": ["2026-12-24"]})
    assert not is_open(cal, london(2026, 12, 24, 10))
    assert next_opening(cal, london(2026, 12, 24, 10)) == london(2026, 12, 29, 9)
    assert add_business_time(cal, london(2026, 12, 23, 17), hours(1)) == london(2026, 12, 29, 9, 30)
    assert cal.describe().endswith("GB-ENG public holidays, 1 extra closed day")


# Calendars that never open.


def test_a_calendar_that_never_opens_refuses_to_start_a_clock() -> None:
    at = london(2026, 1, 9, 12)
    with pytest.raises(ValueError, match="calendar is never open"):
        next_opening(NEVER_OPEN, at)
    with pytest.raises(ValueError, match="calendar is never open"):
        add_business_time(NEVER_OPEN, at, hours(1))
    assert not is_open(NEVER_OPEN, at)
    assert business_time_between(NEVER_OPEN, at, at + timedelta(days=30)) == timedelta(0)
    assert list(open_intervals(NEVER_OPEN, at, at + timedelta(days=30))) == []
    assert NEVER_OPEN.describe() == "never open"


def test_it_gives_up_when_every_open_day_is_closed() -> None:
    mondays = [date(2026, 1, 5) + timedelta(weeks=week) for week in range(200)]
    cal = Calendar(
        timezone="UTC",
        hours=(((time(9), time(17)),), (), (), (), (), (), ()),
        closed_days=frozenset(mondays),
    )
    with pytest.raises(ValueError, match="calendar is never open"):
        next_opening(cal, datetime(2026, 1, 1, tzinfo=UTC))


def test_it_waits_out_a_long_closure() -> None:
    mondays = [date(2026, 1, 5) + timedelta(weeks=week) for week in range(52)]
    cal = Calendar(
        timezone="UTC",
        hours=(((time(9), time(17)),), (), (), (), (), (), ()),
        closed_days=frozenset(mondays),
    )
    assert next_opening(cal, datetime(2026, 1, 1, tzinfo=UTC)) == datetime(
        2027, 1, 4, 9, tzinfo=UTC
    )


# Refusals.

NAIVE = datetime(2026, 1, 9, 12)
AWARE = london(2026, 1, 9, 12)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: is_open(BUSINESS, NAIVE), id="is_open"),
        pytest.param(lambda: next_opening(BUSINESS, NAIVE), id="next_opening"),
        pytest.param(lambda: open_intervals(BUSINESS, NAIVE, AWARE), id="open_intervals-start"),
        pytest.param(lambda: open_intervals(BUSINESS, AWARE, NAIVE), id="open_intervals-end"),
        pytest.param(lambda: add_business_time(BUSINESS, NAIVE, hours(1)), id="add"),
        pytest.param(lambda: business_time_between(BUSINESS, NAIVE, AWARE), id="between-a"),
        pytest.param(lambda: business_time_between(BUSINESS, AWARE, NAIVE), id="between-b"),
        pytest.param(lambda: is_open(twenty_four_seven(), NAIVE), id="24x7"),
    ],
)
def test_it_refuses_naive_datetimes(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="naive"):
        call()


def test_it_refuses_a_negative_duration() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(BUSINESS, AWARE, -MICROSECOND)


# Specs as stored in the database.

EXAMPLE_SPEC: dict[str, Any] = {
    "timezone": "Europe/London",
    "hours": {day: ["09:00-17:30"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": {"country": "GB", "subdivision": "ENG"},
    "closed_days": ["2026-12-24"],
}


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(EXAMPLE_SPEC, id="example"),
        pytest.param({"timezone": "UTC", "hours": {}}, id="never-open"),
        pytest.param(twenty_four_seven("Asia/Kolkata").to_spec(), id="24x7"),
        pytest.param(
            {
                "timezone": "Australia/Sydney",
                "hours": {"sat": ["13:00-24:00", "08:00-12:00"], "sun": ["00:00-02:00"]},
                "holidays": {"country": "US"},
                "closed_days": ["2027-01-02", "2026-12-31"],
            },
            id="unsorted",
        ),
    ],
)
def test_a_spec_round_trips(spec: dict[str, Any]) -> None:
    cal = Calendar.from_spec(spec)
    stored = json.loads(json.dumps(cal.to_spec()))
    assert Calendar.from_spec(stored) == cal
    assert stored == cal.to_spec()


def test_the_example_spec_is_the_business_package() -> None:
    cal = Calendar.from_spec(EXAMPLE_SPEC)
    assert cal.to_spec() == EXAMPLE_SPEC
    assert cal.hours[0] == ((time(9), time(17, 30)),)
    assert cal.hours[5:] == ((), ())
    assert cal.closed_days == frozenset({date(2026, 12, 24)})
    assert (cal.holiday_country, cal.holiday_subdivision) == ("GB", "ENG")


def test_a_spec_sorts_intervals_and_reads_24_00_as_midnight() -> None:
    spec = {"timezone": "UTC", "hours": {"sat": ["13:00-24:00", "08:00-12:00"]}}
    assert Calendar.from_spec(spec).hours[5] == ((time(8), time(12)), (time(13), time(0)))
    assert Calendar.from_spec(spec).to_spec()["hours"] == {"sat": ["08:00-12:00", "13:00-24:00"]}


def spec_with(**changes: Any) -> dict[str, Any]:
    return {"timezone": "UTC", "hours": {"mon": ["09:00-17:00"]}, **changes}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param([], "JSON object", id="not-an-object"),
        pytest.param({"hours": {}}, "needs 'timezone'", id="no-timezone"),
        pytest.param({"timezone": "UTC"}, "needs 'hours'", id="no-hours"),
        pytest.param(spec_with(closed_day=[]), "unknown calendar spec keys", id="unknown-key"),
        pytest.param(spec_with(timezone="Mars/Olympus"), "unknown time zone", id="timezone"),
        pytest.param(spec_with(timezone="../etc"), "unknown time zone", id="timezone-path"),
        pytest.param(spec_with(timezone=3), "IANA name", id="timezone-type"),
        pytest.param(spec_with(hours=["09:00-17:00"]), "day keys", id="hours-type"),
        pytest.param(spec_with(hours={"monday": []}), "unknown day 'monday'", id="day-key"),
        pytest.param(spec_with(hours={"mon": "09:00-17:00"}), "a list", id="day-type"),
        pytest.param(spec_with(hours={"mon": ["09:00"]}), "not an interval", id="no-close"),
        pytest.param(spec_with(hours={"mon": [900]}), "not an interval", id="interval-type"),
        pytest.param(spec_with(hours={"mon": ["09:00-25:00"]}), "'25:00'", id="25:00"),
        pytest.param(spec_with(hours={"mon": ["24:00-24:00"]}), "'24:00'", id="open-24:00"),
        pytest.param(spec_with(hours={"mon": ["9:00-17:00"]}), "'9:00'", id="one-digit"),
        pytest.param(spec_with(hours={"mon": ["09:60-17:00"]}), "'09:60'", id="minute"),
        pytest.param(spec_with(hours={"mon": ["17:00-09:00"]}), "open before", id="backwards"),
        pytest.param(spec_with(hours={"mon": ["09:00-09:00"]}), "open before", id="empty"),
        pytest.param(
            spec_with(hours={"mon": ["09:00-12:00", "11:00-13:00"]}), "overlaps", id="overlap"
        ),
        pytest.param(
            spec_with(hours={"mon": ["09:00-12:00", "09:00-12:00"]}), "overlaps", id="duplicate"
        ),
        pytest.param(spec_with(holidays={"country": "XX"}), "unknown holiday", id="country"),
        pytest.param(
            spec_with(holidays={"country": "GB", "subdivision": "ZZZ"}),
            "unknown holiday",
            id="subdivision",
        ),
        pytest.param(spec_with(holidays={"subdivision": "ENG"}), "holidays must", id="no-country"),
        pytest.param(spec_with(holidays={"country": 44}), "strings", id="country-type"),
        pytest.param(spec_with(holidays="GB"), "holidays must", id="holidays-type"),
        pytest.param(spec_with(closed_days=["2026-13-01"]), "'2026-13-01'", id="closed-day"),
        pytest.param(spec_with(closed_days="2026-12-24"), "a list", id="closed-days-type"),
    ],
)
def test_it_refuses_a_bad_spec_with_a_clear_message(spec: Any, message: str) -> None:
    with pytest.raises(CalendarSpecError, match=message) as refused:
        Calendar.from_spec(spec)
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"hours": ((),) * 6}, id="six-days"),
        pytest.param({"hours": (((time(9), time(9, 0, 30)),),) + ((),) * 6}, id="seconds"),
        pytest.param({"hours": (((time(9), time(8)),),) + ((),) * 6}, id="backwards"),
        pytest.param({"holiday_subdivision": "ENG"}, id="subdivision-alone"),
        pytest.param({"closed_days": frozenset({datetime(2026, 1, 1)})}, id="datetime-closed"),
        pytest.param({"timezone": "Nowhere/Special"}, id="timezone"),
    ],
)
def test_a_calendar_built_in_code_is_checked_too(changes: dict[str, Any]) -> None:
    with pytest.raises(CalendarSpecError):
        Calendar(**{"timezone": "UTC", "hours": ((),) * 7, **changes})


# Shorthands and descriptions.


@pytest.mark.parametrize(
    ("days", "open_days"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("mon-sat", (0, 1, 2, 3, 4, 5)),
        ("sat,sun", (5, 6)),
        ("fri-mon", (0, 4, 5, 6)),
        ("Mon, wed-thu", (0, 2, 3)),
    ],
)
def test_weekly_opens_on_the_named_days(days: str, open_days: tuple[int, ...]) -> None:
    cal = weekly("UTC", days, "08:00", "24:00")
    assert tuple(index for index, day in enumerate(cal.hours) if day) == open_days
    assert all(day == ((time(8), time(0)),) for day in cal.hours if day)


@pytest.mark.parametrize("days", ["funday", "mon-", "mon-fri,", "mon..fri"])
def test_weekly_refuses_unknown_days(days: str) -> None:
    with pytest.raises(CalendarSpecError):
        weekly("UTC", days, "09:00", "17:00")


@pytest.mark.parametrize(
    ("cal", "text"),
    [
        (BUSINESS, "Mon\u2013Fri 09:00\u201317:30 Europe/London, GB-ENG public holidays"),
        (twenty_four_seven(), "24x7"),
        (
            weekly("UTC", "mon-sun", "00:00", "24:00", holiday_country="US"),
            "Mon\u2013Sun 00:00\u201324:00 UTC, US public holidays",
        ),
        (EVENINGS, "Fri 18:00\u201324:00; Sat 00:00\u201306:00, 22:00\u201324:00 Europe/London"),
    ],
)
def test_it_describes_itself_for_people(cal: Calendar, text: str) -> None:
    assert cal.describe() == text


def test_always_open_needs_every_hour_of_every_day() -> None:
    split_days = Calendar.from_spec(
        {
            "timezone": "UTC",
            "hours": {
                day: ["00:00-12:00", "12:00-24:00"]
                for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            },
        }
    )
    assert split_days.always_open
    assert not weekly("UTC", "mon-sat", "00:00", "24:00").always_open
    assert not weekly("UTC", "mon-sun", "00:00", "24:00", holiday_country="GB").always_open


# Properties over random calendars.

ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]
# Quarter hours make boundaries fall inside and at the edges of daylight-saving gaps.
QUARTERS_PER_DAY = 96


def quarter(index: int) -> time:
    return time(0) if index == QUARTERS_PER_DAY else time(index // 4, index % 4 * 15)


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[tuple[time, time], ...]:
    count = draw(st.integers(min_value=0, max_value=3))
    bounds = draw(
        st.lists(
            st.integers(min_value=0, max_value=QUARTERS_PER_DAY),
            min_size=2 * count,
            max_size=2 * count,
            unique=True,
        )
    )
    ordered = sorted(bounds)
    return tuple((quarter(ordered[i]), quarter(ordered[i + 1])) for i in range(0, len(ordered), 2))


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    zone = draw(st.sampled_from(ZONES))
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return twenty_four_seven(zone)
    week = draw(st.tuples(*[day_hours()] * 7).filter(any))
    country, subdivision = draw(st.sampled_from([(None, None), ("GB", "ENG"), ("US", None)]))
    closed = draw(st.frozensets(st.dates(date(2024, 1, 1), date(2028, 12, 31)), max_size=5))
    return Calendar(zone, week, country, subdivision, closed)


instants = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.sampled_from([ZoneInfo(zone) for zone in ZONES]),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10))
gaps = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))
PROPERTIES = settings(max_examples=200, deadline=None)


@PROPERTIES
@given(calendars(), instants, durations)
def test_the_time_added_is_the_time_measured(cal: Calendar, start: datetime, d: timedelta) -> None:
    assert business_time_between(cal, start, add_business_time(cal, start, d)) == d


@PROPERTIES
@given(calendars(), instants, durations.filter(bool))
def test_the_clock_runs_out_inside_open_hours(cal: Calendar, start: datetime, d: timedelta) -> None:
    due = add_business_time(cal, start, d)
    assert due > start
    assert is_open(cal, due - MICROSECOND)


@PROPERTIES
@given(calendars(), instants, durations, durations)
def test_a_longer_duration_is_never_due_sooner(
    cal: Calendar, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    shorter, longer = sorted((d1, d2))
    assert add_business_time(cal, start, shorter) <= add_business_time(cal, start, longer)


@PROPERTIES
@given(calendars(), instants, gaps, gaps)
def test_business_time_adds_up_across_a_split(
    cal: Calendar, a: datetime, first: timedelta, second: timedelta
) -> None:
    # Adding to a local wall-clock time can move backwards across a fall-back, so the split
    # points are placed in UTC.
    b = a.astimezone(UTC) + first
    c = b + second
    whole = business_time_between(cal, a, c)
    assert whole == business_time_between(cal, a, b) + business_time_between(cal, b, c)
    assert whole == sum((end - start for start, end in open_intervals(cal, a, c)), timedelta(0))


@PROPERTIES
@given(calendars(), instants)
def test_the_next_opening_is_open_and_not_in_the_past(cal: Calendar, at: datetime) -> None:
    opening = next_opening(cal, at)
    assert opening >= at
    assert is_open(cal, opening)
    assert business_time_between(cal, at, opening) == timedelta(0)
