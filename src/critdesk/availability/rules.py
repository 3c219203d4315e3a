"""Pure availability rules: is the desk open now for a package's calendar, and if not, when.

When the desk is closed, ``next_open_at`` is also when the SLA clock of a case reported now
starts (``sla.rules.start_clock`` uses the same ``next_opening``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from critdesk.calendar.rules import Calendar, is_open, next_opening, open_intervals

# Looking this far ahead finds the end of any open interval (a week, and then some).
_HORIZON = timedelta(days=8)
_SOON = timedelta(days=6)


@dataclass(frozen=True, slots=True)
class Availability:
    open_now: bool
    # When closed: the next opening, where a new case's SLA clock starts.
    next_open_at: datetime | None
    # When open: when the current opening ends (None around the clock).
    closes_at: datetime | None


def availability(calendar: Calendar, now: datetime) -> Availability:
    if calendar.always_open:
        return Availability(open_now=True, next_open_at=None, closes_at=None)
    if not any(calendar.hours):
        return Availability(open_now=False, next_open_at=None, closes_at=None)
    if is_open(calendar, now):
        current = next(iter(open_intervals(calendar, now, now + _HORIZON)), None)
        closes = current[1] if current is not None and current[1] < now + _HORIZON else None
        return Availability(open_now=True, next_open_at=None, closes_at=closes)
    return Availability(open_now=False, next_open_at=next_opening(calendar, now), closes_at=None)


def place_of(timezone: str) -> str:
    """The reader's name for a zone: "London" for Europe/London, "UTC" for UTC."""
    return timezone.rsplit("/", 1)[-1].replace("_", " ")


def local_moment(at: datetime, timezone: str, now: datetime) -> str:
    """ "Mon 09:00 (London)" within the coming week, else "Tue 29 Dec 09:00 (London)"."""
    local = at.astimezone(ZoneInfo(timezone))
    pattern = "%a %H:%M" if at - now < _SOON else "%a %d %b %H:%M"
    return f"{local.strftime(pattern)} ({place_of(timezone)})"


def headline(state: Availability, timezone: str, now: datetime) -> str:
    """The banner's sentence for customers."""
    if state.open_now:
        return "The desk is open now"
    if state.next_open_at is None:
        return "Your package does not include the critical-issue desk"
    when = local_moment(state.next_open_at, timezone, now)
    return f"Closed — an engineer starts investigating from {when}"
