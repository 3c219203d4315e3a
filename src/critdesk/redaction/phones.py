"""Telephone numbers, found by shape and confirmed by Google's libphonenumber (``phonenumbers``).

A cheap expression proposes digit groups shaped like phone numbers; each proposal is parsed
and must be a valid number (international form, or national form in one of the regions the
desk's customers call from). Dates, times, versions, ports and ids are never proposed, or fail
validation. Numbers written without any separator are only taken after a word such as
"phone", "tel" or "call".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import phonenumbers

from critdesk.redaction.spans import Finding

REGIONS = ("GB", "US", "IE", "DE", "FR", "NL")

# Each shape starts with a literal character ("+", "0", "(", "-"), which the regex engine
# skips ahead to quickly; boundaries are checked on each hit.
_SHAPES = (
    re.compile(r"(?:\+|00)[1-9][\d ().-]{6,18}\d(?:\s?(?:ext\.?|x)\s?\d{1,5})?"),  # +44 161 …
    re.compile(r"0\d(?:\d{1,3}[ -]\d{3,4}[ -]?\d{3,4}|\d{8,9})"),  # 0161 496 0101, 01614960101
    re.compile(r"\((?:0\d{1,4}\)\s?\d[\d -]{4,10}\d|\d{3}\)\s?\d{3}[-. ]\d{4})"),  # (0161) 496…
    re.compile(r"-\d{3}-\d{4}"),  # 212-555-0143, widened to the area code before it
)
_BEFORE = frozenset("0123456789.:/-_")
_AFTER = frozenset("0123456789-_")
_CONTEXT = re.compile(
    r"(?i)(?:phone|tel|mobile|mob|cell|call|ring|fax|contact|number|direct|switchboard|whatsapp|"
    r"sms|text|on)\b[^\n\d+]{0,12}\Z"
)


def find(text: str) -> Iterator[Finding]:
    seen: set[int] = set()
    for shape in _SHAPES:
        match = shape.search(text)
        while match is not None:
            start, end = match.span()
            if shape.pattern.startswith("-"):
                start = start - 3 if start >= 3 and text[start - 3 : start].isdigit() else -1
            found = None
            if start >= 0 and start not in seen and _bounded(text, start, end):
                found = _validate(text, start, text[start:end].rstrip(" .-"))
            if found is not None:
                seen.add(start)
                yield found
                match = shape.search(text, end)
            else:
                # A rejected hit may hide a real number starting inside it ("id=0012 0044 …").
                match = shape.search(text, match.start() + 1)


def _bounded(text: str, start: int, end: int) -> bool:
    """Not a piece of a longer number, date, version or word."""
    if start > 0:
        before = text[start - 1]
        if before.isalnum() or (text[start] not in "+(" and before in _BEFORE):
            return False
    if end >= len(text):
        return True
    after = text[end]
    if after in ".:" and text[end + 1 : end + 2].isdigit():
        return False  # 0161.496.0101.5 or a time: not a number on its own
    return after not in _AFTER and not after.isalpha()


def _validate(text: str, start: int, candidate: str) -> Finding | None:
    digits = sum(c.isdigit() for c in candidate)
    if digits < 8 or digits > 15:
        return None
    in_context = _CONTEXT.search(text, max(0, start - 30), start) is not None
    if candidate.isdigit() and not in_context:
        return None
    number = _parse(candidate, lenient=in_context or candidate.startswith("+"))
    if number is None:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Finding(start, start + len(candidate), "phone", "telephone number", e164)


# Parsing is the costly step (tens of µs); logs and threads repeat the same numbers.
@lru_cache(maxsize=4096)
def _parse(candidate: str, *, lenient: bool) -> phonenumbers.PhoneNumber | None:
    regions: tuple[str | None, ...] = (None,) if candidate.startswith("+") else REGIONS
    for region in regions:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
        if lenient and phonenumbers.is_possible_number(number):
            return number
    return None
