"""Header time stamps as UTC datetimes (pure; the year of year-less stamps is a parameter).

Logs rarely say their time zone; a stamp without an offset is read as UTC, which is what
servers are usually set to. Stamps without a year (syslog's ``Jun 14 15:16:01``) take the
year given, and a stamp without a date (``08:41:02``) is not placed in time at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_NUMBERS = re.compile(r"\d+")
_ZONE = re.compile(r"(?:Z|([+-])(\d{2}):?(\d{2}))\s*$")
_MONTH_NAME = re.compile(r"\b[A-Za-z]{3}")
_FRACTION_PART = re.compile(r"(?<=:\d\d:\d\d)[.,:]\d{1,9}")
_AM_PM = re.compile(r"\b([AaPp])[Mm]\b")


class TimeReader:
    """Parses a file's header stamps, remembering recent ones (a file repeats its seconds)."""

    def __init__(self, year: int) -> None:
        self.year = year
        self._cache: dict[str, datetime | None] = {}
        self._second = ""
        self._second_value: datetime | None = None

    def __call__(self, text: str | None) -> datetime | None:
        """The stamp to the second (what histograms and first/last times need)."""
        if not text:
            return None
        second = self._second
        if second and text.startswith(second) and text[len(second) : len(second) + 1] in ".,:":
            # The same second as the stamp before, to a finer fraction (the usual case).
            return self._second_value
        found = self._cache.get(text, _MISSING)
        if found is _MISSING:
            if len(self._cache) > 4096:
                self._cache.clear()
            # Stamps of one second differ only in their fraction: parse each second once.
            second = _FRACTION_PART.sub("", text, count=1)
            found = self._cache.get(second, _MISSING)
            if found is _MISSING:
                found = self._cache[second] = parse(second, self.year)
            self._cache[text] = found
            if len(second) < len(text):
                self._second, self._second_value = second, found
        return found


_MISSING = datetime.min.replace(tzinfo=UTC)


def parse(text: str, year: int) -> datetime | None:
    """A header stamp in any shape of ``formats.TIMESTAMPS``; None if it cannot be placed."""
    try:
        return _parse(text.strip(), year)
    except (ValueError, OverflowError, IndexError):
        return None


def _parse(text: str, year: int) -> datetime | None:
    zone = _zone(text)
    name = next((m for m in _MONTH_NAME.finditer(text) if m.group().lower() in _MONTHS), None)
    numbers = [int(n) for n in _NUMBERS.findall(_ZONE.sub("", text))]
    if name is not None:
        return _with_month_name(text, name, numbers, year, zone)
    head = _NUMBERS.match(text)
    if head is None:
        return None
    first = head.group()
    if len(first) == 8:  # 20171223-22:15:29:606
        y, mo, d = int(first[:4]), int(first[4:6]), int(first[6:])
        return _build(y, mo, d, numbers[1:], zone)
    if len(first) == 6 and len(numbers) >= 2 and len(str(numbers[1])) >= 5:  # 081109 203615
        clock = f"{numbers[1]:06d}"
        hms = [int(clock[:2]), int(clock[2:4]), int(clock[4:])]
        return _build(2000 + int(first[:2]), int(first[2:4]), int(first[4:]), hms, zone)
    if len(numbers) < 4:
        return None
    separator = text[len(first)] if len(text) > len(first) else ""
    a, b, c = numbers[:3]
    rest = numbers[3:]
    if len(first) == 4:  # 2026-11-25, 2026/11/25
        return _build(a, b, c, rest, zone)
    if separator == "/" and len(str(c)) == 4:  # 11/25/2026 8:41:02 PM (US)
        rest = _twelve_hour(text, rest)
        return _build(c, a, b, rest, zone)
    if separator == "/":  # 17/06/09: yy/mm/dd
        return _build(2000 + a, b, c, rest, zone)
    if separator == "." and len(str(c)) == 4:  # 25.11.2026
        return _build(c, b, a, rest, zone)
    if separator == ".":  # 10.30 16:49:06: mm.dd, no year
        return _build(year, a, b, [c, *rest], zone)
    return None


def _with_month_name(
    text: str, name: re.Match[str], numbers: list[int], year: int, zone: timezone | None
) -> datetime | None:
    month = _MONTHS[name.group().lower()]
    before = text[: name.start()]
    if _NUMBERS.search(before):  # 25-Nov-2026 08:41:02, 25/Nov/2026:08:41:02 +0000
        day, y, *rest = numbers
        return _build(y, month, day, rest, zone)
    # Jun 14 15:16:01 (syslog, no year); Sun Dec 04 04:47:44 2005 (ctime, year last)
    day, *rest = numbers
    if len(rest) >= 4 and rest[-1] > 1900:
        return _build(rest[-1], month, day, rest[:-1], zone)
    return _build(year, month, day, rest, zone)


def _twelve_hour(text: str, clock: list[int]) -> list[int]:
    m = _AM_PM.search(text)
    if m is None or not clock:
        return clock
    hour = clock[0] % 12 + (12 if m.group(1) in "Pp" else 0)
    return [hour, *clock[1:]]


def _zone(text: str) -> timezone | None:
    m = _ZONE.search(text)
    if m is None or (m.group(0).strip() != "Z" and m.group(1) is None):
        return None
    if m.group(1) is None:
        return UTC
    offset = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
    return timezone(-offset if m.group(1) == "-" else offset)


def _build(y: int, mo: int, d: int, clock: list[int], zone: timezone | None) -> datetime | None:
    if len(clock) < 2:
        return None
    hour, minute = clock[0], clock[1]
    second = clock[2] if len(clock) > 2 else 0
    moment = datetime(y, mo, d, hour, minute, min(second, 59), tzinfo=zone or UTC)
    return moment.astimezone(UTC)
