"""Pure business-calendar math for SLA clocks; time is always a parameter.

Business time is real elapsed time inside open intervals. An open interval on local date d runs
from the local opening time to the local closing time on d, each read with ``fold=0`` and
converted to UTC, so an interval of 09:00-17:30 always lasts 8.5 hours and a 24x7 day lasts 23
or 25 hours when the clocks change. Each day's intervals are clipped to that day's window, from
its local midnight to the next, so the intervals of consecutive days never overlap whatever the
time zone does around a transition.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

Interval = tuple[datetime, datetime]
DayHours = tuple[tuple[time, time], ...]

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIDNIGHT = time(0, 0)
# A calendar that stays shut for this many days in a row is treated as never open, so that a
# search for the next opening always ends.
MAX_CLOSED_RUN_DAYS = 800

# Ranges in human text use an en dash, written as an escape so that it cannot be mistaken for a
# hyphen in the source.
_EN_DASH = "\u2013"
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MINUTES_PER_DAY = 24 * 60
_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_CLOCK = re.compile(r"(\d{2}):(\d{2})")
_SPEC_KEYS = frozenset({"timezone", "hours", "holidays", "closed_days"})
_HOLIDAY_KEYS = frozenset({"country", "subdivision"})


class CalendarSpecError(ValueError):
    """A calendar spec or constructor argument that does not describe a business calendar."""


@dataclass(frozen=True, slots=True)
class Calendar:
    """Weekly opening hours in one time zone, minus public holidays and extra closed days.

    ``hours`` has seven entries, Monday first; each is a tuple of (open, close) local wall-clock
    times, where a close of 00:00 means 24:00, the midnight that ends the day.
    """

    timezone: str
    hours: tuple[DayHours, ...]
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    closed_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        # Validating here rather than only in from_spec makes a calendar built in code as safe
        # as one loaded from the database; sorting makes equal calendars compare equal.
        _checked_timezone(self.timezone)
        object.__setattr__(self, "hours", _checked_week(self.hours))
        _check_holiday_region(self.holiday_country, self.holiday_subdivision)
        object.__setattr__(self, "closed_days", _checked_closed_days(self.closed_days))

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Calendar:
        """Build a calendar from its JSON spec, raising CalendarSpecError on any bad input."""
        if not isinstance(spec, Mapping):
            raise CalendarSpecError("a calendar spec must be a JSON object")
        unknown = sorted(str(key) for key in set(spec) - _SPEC_KEYS)
        if unknown:
            raise CalendarSpecError(f"unknown calendar spec keys: {', '.join(unknown)}")
        for required in ("timezone", "hours"):
            if required not in spec:
                raise CalendarSpecError(f"a calendar spec needs {required!r}")
        country, subdivision = _parse_holidays(spec.get("holidays"))
        return cls(
            timezone=spec["timezone"],
            hours=_parse_hours(spec["hours"]),
            holiday_country=country,
            holiday_subdivision=subdivision,
            closed_days=_parse_closed_days(spec.get("closed_days", [])),
        )

    def to_spec(self) -> dict[str, Any]:
        """The JSON spec that from_spec turns back into an equal calendar."""
        hours = {
            key: [_format_interval(interval) for interval in day]
            for key, day in zip(DAY_KEYS, self.hours, strict=True)
            if day
        }
        spec: dict[str, Any] = {"timezone": self.timezone, "hours": hours}
        if self.holiday_country is not None:
            spec["holidays"] = {"country": self.holiday_country}
            if self.holiday_subdivision is not None:
                spec["holidays"]["subdivision"] = self.holiday_subdivision
        if self.closed_days:
            spec["closed_days"] = [day.isoformat() for day in sorted(self.closed_days)]
        return spec

    @property
    def always_open(self) -> bool:
        """Open around the clock every day, with no holidays or closed days to break it."""
        return (
            self.holiday_country is None
            and not self.closed_days
            and all(_covers_whole_day(day) for day in self.hours)
        )

    def describe(self) -> str:
        """Human text such as "Mon-Fri 09:00-17:30 Europe/London, GB-ENG public holidays".

        Day and time ranges are written with en dashes; a calendar open around the clock is
        simply "24x7".
        """
        if self.always_open:
            return "24x7"
        groups = [
            f"{_day_range(first, last)} {', '.join(_format_interval(i, _EN_DASH) for i in day)}"
            for first, last, day in _runs_of_equal_days(self.hours)
            if day
        ]
        if not groups:
            return "never open"
        parts = [f"{'; '.join(groups)} {self.timezone}"]
        if self.holiday_country is not None:
            region = "-".join(filter(None, (self.holiday_country, self.holiday_subdivision)))
            parts.append(f"{region} public holidays")
        if self.closed_days:
            count = len(self.closed_days)
            parts.append(f"{count} extra closed day{'s' if count > 1 else ''}")
        return ", ".join(parts)


def twenty_four_seven(timezone: str = "UTC") -> Calendar:
    """A calendar that never closes; its time zone only matters for display."""
    return Calendar(timezone=timezone, hours=(((MIDNIGHT, MIDNIGHT),),) * 7)


def weekly(
    timezone: str,
    days: str,
    open_: str,
    close: str,
    *,
    holiday_country: str | None = None,
    holiday_subdivision: str | None = None,
) -> Calendar:
    """The same hours on each of ``days`` ("mon-fri", "mon-sat", "sat,sun"), closed otherwise."""
    spec: dict[str, Any] = {
        "timezone": timezone,
        "hours": {key: [f"{open_}-{close}"] for key in _parse_days(days)},
    }
    if holiday_country is not None or holiday_subdivision is not None:
        spec["holidays"] = {"country": holiday_country, "subdivision": holiday_subdivision}
    return Calendar.from_spec(spec)


def is_open(cal: Calendar, at: datetime) -> bool:
    """Whether ``at`` lies inside an open interval (intervals include their start only)."""
    moment = _utc(at)
    if cal.always_open:
        return True
    zone = _zone(cal.timezone)
    local_day = moment.astimezone(zone).date()
    # Around a transition an instant can belong to the window of the day before or after its
    # local date, so the neighbours are checked too.
    return any(
        start <= moment < end
        for offset in (-1, 0, 1)
        for start, end in _day_intervals(cal, local_day + timedelta(days=offset), zone)
    )


def next_opening(cal: Calendar, at: datetime) -> datetime:
    """``at`` in UTC when the calendar is open then, else the start of the next open interval."""
    moment = _utc(at)
    if cal.always_open:
        return moment
    start, _ = next(_intervals_from(cal, moment))
    return max(start, moment)


def open_intervals(cal: Calendar, start: datetime, end: datetime) -> Iterator[Interval]:
    """The open intervals clipped to [start, end), in UTC, ascending, touching ones merged."""
    lower, upper = _utc(start), _utc(end)
    if cal.always_open:
        return iter([(lower, upper)] if lower < upper else [])
    return _merged(_intervals_within(cal, lower, upper))


def add_business_time(cal: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The instant at which ``duration`` of business time has elapsed since ``start``.

    A zero duration gives the next opening, where the clock starts. Otherwise the result lies
    inside an open interval or exactly at the end of the interval in which the time runs out.
    """
    moment = _utc(start)
    if duration < _ZERO:
        raise ValueError("business time cannot be added in a negative amount")
    if cal.always_open:
        return moment + duration
    if not duration:
        return next_opening(cal, moment)
    remaining = duration
    intervals = _intervals_from(cal, moment)
    while True:
        open_at, close_at = next(intervals)
        counted_from = max(open_at, moment)
        if remaining <= close_at - counted_from:
            return counted_from + remaining
        remaining -= close_at - counted_from


def business_time_between(cal: Calendar, a: datetime, b: datetime) -> timedelta:
    """The business time elapsed from ``a`` to ``b``; zero when ``b`` is not after ``a``."""
    start, end = _utc(a), _utc(b)
    if end <= start:
        return _ZERO
    if cal.always_open:
        return end - start
    return sum((close - open_ for open_, close in _intervals_within(cal, start, end)), _ZERO)


# Interval arithmetic.


def _utc(moment: datetime) -> datetime:
    # Naive datetimes are refused because guessing their zone would silently shift SLA clocks.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: calendar math needs timezone-aware datetimes")
    return moment.astimezone(UTC)


def _local_instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    # With fold=0 an ambiguous reading is its first occurrence and a reading inside a gap uses
    # the offset before the transition; either way the UTC instant is well defined.
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def _day_intervals(cal: Calendar, day: date, zone: ZoneInfo) -> list[Interval]:
    """The UTC open intervals of local date ``day``, ascending, inside that day's window."""
    hours = cal.hours[day.weekday()]
    if not hours or _is_closed_day(cal, day):
        return []
    floor = _local_instant(day, MIDNIGHT, zone)
    day_end = _local_instant(day + _ONE_DAY, MIDNIGHT, zone)
    intervals: list[Interval] = []
    for open_, close in hours:
        # Clipping to the previous end keeps intervals disjoint when a gap folds them together;
        # an interval that collapses to nothing is skipped.
        start = max(_local_instant(day, open_, zone), floor)
        end = day_end if close == MIDNIGHT else min(_local_instant(day, close, zone), day_end)
        if start < end:
            intervals.append((start, end))
            floor = end
    return intervals


def _intervals_from(cal: Calendar, moment: datetime) -> Iterator[Interval]:
    """Every open interval that ends after ``moment``, ascending, without end."""
    if not any(cal.hours):
        raise ValueError("calendar is never open")
    zone = _zone(cal.timezone)
    day = moment.astimezone(zone).date() - _ONE_DAY
    closed_run = 0
    while True:
        intervals = _day_intervals(cal, day, zone)
        closed_run = 0 if intervals else closed_run + 1
        if closed_run > MAX_CLOSED_RUN_DAYS:
            raise ValueError("calendar is never open")
        yield from (interval for interval in intervals if interval[1] > moment)
        day += _ONE_DAY


def _intervals_within(cal: Calendar, start: datetime, end: datetime) -> Iterator[Interval]:
    """The open intervals clipped to [start, end), ascending, not merged."""
    zone = _zone(cal.timezone)
    day = start.astimezone(zone).date() - _ONE_DAY
    while _local_instant(day, MIDNIGHT, zone) < end:
        for open_, close in _day_intervals(cal, day, zone):
            clipped = (max(open_, start), min(close, end))
            if clipped[0] < clipped[1]:
                yield clipped
        day += _ONE_DAY


def _merged(intervals: Iterable[Interval]) -> Iterator[Interval]:
    """Ascending disjoint intervals with the ones that touch joined together."""
    pending: Interval | None = None
    for start, end in intervals:
        if pending is not None and pending[1] == start:
            pending = (pending[0], end)
            continue
        if pending is not None:
            yield pending
        pending = (start, end)
    if pending is not None:
        yield pending


def _is_closed_day(cal: Calendar, day: date) -> bool:
    if day in cal.closed_days:
        return True
    country = cal.holiday_country
    return country is not None and day in _holiday_dates(country, cal.holiday_subdivision, day.year)


@lru_cache(maxsize=512)
def _holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    # Building a year of holidays costs far more than a lookup, and every request needs one.
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


@lru_cache(maxsize=128)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarSpecError(f"unknown time zone {name!r}") from exc


# Validation and parsing.


def _checked_timezone(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise CalendarSpecError(f"timezone must be an IANA name such as 'Europe/London': {name!r}")
    _zone(name)
    return name


def _checked_week(hours: object) -> tuple[DayHours, ...]:
    if not isinstance(hours, tuple | list) or len(hours) != len(DAY_KEYS):
        raise CalendarSpecError("hours must have seven entries, Monday first")
    return tuple(_checked_day(key, day) for key, day in zip(DAY_KEYS, hours, strict=True))


def _checked_day(key: str, day: object) -> DayHours:
    if not isinstance(day, tuple | list):
        raise CalendarSpecError(f"{key}: hours must be a sequence of (open, close) pairs")
    pairs = sorted(_checked_pair(key, pair) for pair in day)
    for earlier, later in itertools.pairwise(pairs):
        if _minutes(later[0]) < _close_minutes(earlier[1]):
            raise CalendarSpecError(
                f"{key}: {_format_interval(earlier)} overlaps {_format_interval(later)}"
            )
    return tuple(pairs)


def _checked_pair(key: str, pair: object) -> tuple[time, time]:
    if not (isinstance(pair, tuple | list) and len(pair) == 2):
        raise CalendarSpecError(f"{key}: {pair!r} is not an (open, close) pair")
    open_, close = pair
    for clock in (open_, close):
        # Whole minutes only, so that every calendar can be written back as HH:MM.
        if (
            not isinstance(clock, time)
            or clock.tzinfo is not None
            or clock.second + clock.microsecond
        ):
            raise CalendarSpecError(f"{key}: {clock!r} is not a naive whole-minute time")
    if _minutes(open_) >= _close_minutes(close):
        raise CalendarSpecError(
            f"{key}: opens at {_format_clock(open_)} but closes at {_format_clock(close, True)}; "
            "an interval must open before it closes (split overnight hours across two days)"
        )
    # The calendar itself decides how ambiguous readings resolve, so a fold on input is dropped.
    return (open_.replace(fold=0), close.replace(fold=0))


def _check_holiday_region(country: object, subdivision: object) -> None:
    if country is None:
        if subdivision is not None:
            raise CalendarSpecError("a holiday subdivision needs a holiday country")
        return
    if not isinstance(country, str) or not (subdivision is None or isinstance(subdivision, str)):
        raise CalendarSpecError("holiday country and subdivision must be strings")
    problem = _holiday_region_problem(country, subdivision)
    if problem:
        raise CalendarSpecError(f"unknown holiday region: {problem}")


@lru_cache(maxsize=64)
def _holiday_region_problem(country: str, subdivision: str | None) -> str:
    # Calendars are rebuilt from their spec on every request, so the answer is remembered.
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as exc:
        return str(exc)
    return ""


def _checked_closed_days(days: object) -> frozenset[date]:
    if not isinstance(days, Iterable) or isinstance(days, str):
        raise CalendarSpecError("closed_days must be a collection of dates")
    try:
        checked = frozenset(days)
    except TypeError as exc:
        raise CalendarSpecError("closed_days must be a collection of dates") from exc
    for day in checked:
        # A datetime never equals a date, so one here would silently never close anything.
        if not isinstance(day, date) or isinstance(day, datetime):
            raise CalendarSpecError(f"closed day {day!r} is not a date")
    return checked


def _parse_hours(raw: object) -> tuple[DayHours, ...]:
    if not isinstance(raw, Mapping):
        raise CalendarSpecError("hours must map day keys (mon to sun) to lists of 'HH:MM-HH:MM'")
    for key in raw:
        if key not in DAY_KEYS:
            raise CalendarSpecError(f"unknown day {key!r}; expected one of {', '.join(DAY_KEYS)}")
    return tuple(_parse_day(key, raw.get(key, [])) for key in DAY_KEYS)


def _parse_day(key: str, raw: object) -> DayHours:
    if not isinstance(raw, list | tuple):
        raise CalendarSpecError(f"{key}: expected a list of 'HH:MM-HH:MM' intervals")
    return _checked_day(key, [_parse_interval(key, text) for text in raw])


def _parse_interval(key: str, text: object) -> tuple[time, time]:
    if not isinstance(text, str) or text.count("-") != 1:
        raise CalendarSpecError(f"{key}: {text!r} is not an interval like '09:00-17:30'")
    open_text, close_text = text.split("-")
    return (
        _parse_clock(key, open_text.strip(), False),
        _parse_clock(key, close_text.strip(), True),
    )


def _parse_clock(key: str, text: str, closing: bool) -> time:
    match = _CLOCK.fullmatch(text)
    hour, minute = (int(match[1]), int(match[2])) if match else (-1, -1)
    if closing and (hour, minute) == (24, 0):
        return MIDNIGHT
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        limit = "24:00" if closing else "23:59"
        raise CalendarSpecError(f"{key}: {text!r} is not a time between 00:00 and {limit}")
    return time(hour, minute)


def _parse_holidays(raw: object) -> tuple[str | None, str | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, Mapping) or "country" not in raw or set(raw) - _HOLIDAY_KEYS:
        raise CalendarSpecError("holidays must be an object like {'country': 'GB', ...}")
    country, subdivision = raw["country"], raw.get("subdivision")
    _check_holiday_region(country, subdivision)
    return country, subdivision


def _parse_closed_days(raw: object) -> frozenset[date]:
    if not isinstance(raw, list | tuple):
        raise CalendarSpecError("closed_days must be a list of 'YYYY-MM-DD' dates")
    days: set[date] = set()
    for text in raw:
        try:
            days.add(date.fromisoformat(text))
        except (TypeError, ValueError) as exc:
            raise CalendarSpecError(f"closed day {text!r} is not a 'YYYY-MM-DD' date") from exc
    return frozenset(days)


def _parse_days(text: str) -> list[str]:
    """Day keys in week order from text like "mon-fri", "sat,sun" or "fri-mon" (wrapping)."""
    chosen: set[int] = set()
    for part in text.lower().split(","):
        ends = [piece.strip() for piece in part.split("-")]
        if len(ends) > 2 or any(end not in DAY_KEYS for end in ends):
            raise CalendarSpecError(f"{text!r} is not a day range like 'mon-fri'")
        start = DAY_KEYS.index(ends[0])
        span = (DAY_KEYS.index(ends[-1]) - start) % len(DAY_KEYS)
        chosen.update((start + step) % len(DAY_KEYS) for step in range(span + 1))
    return [DAY_KEYS[index] for index in sorted(chosen)]


# Formatting.


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def _close_minutes(clock: time) -> int:
    # A closing time of 00:00 is the midnight at the end of the day.
    return _MINUTES_PER_DAY if clock == MIDNIGHT else _minutes(clock)


def _covers_whole_day(day: DayHours) -> bool:
    reached = 0
    for open_, close in day:
        if _minutes(open_) != reached:
            return False
        reached = _close_minutes(close)
    return reached == _MINUTES_PER_DAY


def _format_clock(clock: time, closing: bool = False) -> str:
    return "24:00" if closing and clock == MIDNIGHT else f"{clock.hour:02d}:{clock.minute:02d}"


def _format_interval(interval: tuple[time, time], dash: str = "-") -> str:
    return f"{_format_clock(interval[0])}{dash}{_format_clock(interval[1], True)}"


def _runs_of_equal_days(week: tuple[DayHours, ...]) -> list[tuple[int, int, DayHours]]:
    runs: list[tuple[int, int, DayHours]] = []
    for index, day in enumerate(week):
        if runs and runs[-1][2] == day:
            runs[-1] = (runs[-1][0], index, day)
        else:
            runs.append((index, index, day))
    return runs


def _day_range(first: int, last: int) -> str:
    if first == last:
        return _DAY_NAMES[first]
    return f"{_DAY_NAMES[first]}{_EN_DASH}{_DAY_NAMES[last]}"
