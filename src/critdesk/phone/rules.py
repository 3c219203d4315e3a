"""Pure telephone rules: numbers in any written form reduced to one comparable form (E.164).

"+44 161 496 0101", "0161 496 0101", "0044 161-496-0101" and "+44 (0)161 4960101" are all
+441614960101; a national number is read in the default region (GB unless configured).
"""

from __future__ import annotations

import re

import phonenumbers

_PHONE_CHARS = re.compile(r"[\d\s+()./-]+")
MIN_DIGITS = 6


def looks_like_number(text: str) -> bool:
    """Whether a search text is a phone number rather than a name or an e-mail address."""
    text = text.strip()
    return bool(_PHONE_CHARS.fullmatch(text)) and sum(c.isdigit() for c in text) >= MIN_DIGITS


def normalise(text: str | None, region: str = "GB") -> str | None:
    """The E.164 form of a number, or None when the text cannot be a phone number."""
    if not text or not looks_like_number(text):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def last_digits(text: str, count: int = 7) -> str:
    """The last digits of a number: a cheap database pre-filter before comparing E.164 forms."""
    return "".join(c for c in text if c.isdigit())[-count:]
