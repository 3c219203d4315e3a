"""Pure SLA clock rules over a business calendar; time is always a parameter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from critdesk.calendar.rules import (
    Calendar,
    add_business_time,
    business_time_between,
    next_opening,
)

WARN_SHARE = 0.75


@dataclass(frozen=True, slots=True)
class SlaClock:
    target_seconds: int
    clock_starts_at: datetime
    warn_at: datetime
    due_at: datetime


def start_clock(calendar: Calendar, reported_at: datetime, target_seconds: int) -> SlaClock:
    """The clock starts at the next opening and runs only in business time."""
    return SlaClock(
        target_seconds=target_seconds,
        clock_starts_at=next_opening(calendar, reported_at),
        warn_at=add_business_time(
            calendar, reported_at, timedelta(seconds=target_seconds * WARN_SHARE)
        ),
        due_at=add_business_time(calendar, reported_at, timedelta(seconds=target_seconds)),
    )


def status(*, due_at: datetime, met_at: datetime | None, now: datetime) -> str:
    """``met`` or ``breached`` once stopped; ``running`` until due, ``breached`` after."""
    if met_at is not None:
        return "met" if met_at <= due_at else "breached"
    return "running" if now < due_at else "breached"


def business_seconds(calendar: Calendar, start: datetime, end: datetime) -> int:
    return int(business_time_between(calendar, start, end).total_seconds())


def used_share(
    calendar: Calendar, *, reported_at: datetime, target_seconds: int, now: datetime
) -> float:
    """The share of the target already used, in business time (1.0 = due now)."""
    if target_seconds <= 0:
        return 1.0
    return business_time_between(calendar, reported_at, now).total_seconds() / target_seconds
