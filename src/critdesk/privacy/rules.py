"""Pure rules of files at rest and personal data: when retention removes a file, what an
erased contact becomes, and how their name, e-mail address and phone number are scrubbed
from text. No database, no clock: time is a parameter."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers

RETENTION = "retention"
ERASURE = "erasure"
REMOVAL_REASONS = {
    RETENTION: "its case closed longer ago than the retention period",
    ERASURE: "the personal data of the person who uploaded it was erased",
}
ERASED_DOMAIN = "erased.invalid"
NAME, EMAIL, PHONE = "[NAME]", "[EMAIL]", "[PHONE]"
# Name parts shorter than this are initials or particles ("Al", "de"): replacing them
# everywhere would garble ordinary words.
MIN_NAME_PART = 3
_SEPARATORS = r"[\s().\-/]*"


def retention_cutoff(now: datetime, days: int) -> datetime | None:
    """Files of cases closed at or before the cutoff are removed; None keeps them forever
    (a retention of 0 days means "no retention limit", never "delete at once")."""
    if days <= 0:
        return None
    return now - timedelta(days=days)


def removal_message(reason: str, days: int | None = None) -> str:
    if reason == RETENTION and days:
        return f"The file was removed {days} days after the case closed (retention policy)."
    return f"The file was removed: {REMOVAL_REASONS.get(reason, reason)}."


@dataclass(frozen=True, slots=True)
class Anonymous:
    email: str
    name: str


def anonymous(user_id: int) -> Anonymous:
    """What an erased contact's row says instead of who they were: unique (the e-mail column
    is), recognisably erased, and undeliverable (``.invalid`` is reserved, RFC 2606)."""
    return Anonymous(email=f"erased-{user_id}@{ERASED_DOMAIN}", name=f"Erased contact {user_id}")


def is_erased(email: str) -> bool:
    return email.lower().endswith("@" + ERASED_DOMAIN)


@dataclass(frozen=True)
class Scrubber:
    """Replaces one person's name, e-mail address and phone number in text.

    Literal and case-insensitive: the e-mail address, the full name, and each part of the
    name of at least ``MIN_NAME_PART`` letters that is not also a word of the organisation's
    name (so that "Bob Northwind" of "Northwind Insurance" does not take the company's name
    with him); the phone number in any written form (+44 161 496 0101, 0161-496-0101, …).
    """

    pattern: re.Pattern[str] | None

    def __call__(self, text: str) -> tuple[str, int]:
        if self.pattern is None or not text:
            return text, 0
        count = 0

        def replace(match: re.Match[str]) -> str:
            nonlocal count
            count += 1
            kind = match.lastgroup
            return EMAIL if kind == "email" else PHONE if kind == "phone" else NAME

        return self.pattern.sub(replace, text), count

    def value(self, value: Any) -> tuple[Any, int]:
        """The same for every string inside a JSON-like value (dict keys are left alone)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, list):
            pairs = [self.value(item) for item in value]
            return [item for item, _ in pairs], sum(n for _, n in pairs)
        if isinstance(value, dict):
            scrubbed = {key: self.value(item) for key, item in value.items()}
            return {k: v for k, (v, _) in scrubbed.items()}, sum(n for _, n in scrubbed.values())
        return value, 0


def _phone_patterns(phone: str | None, region: str) -> list[str]:
    if not phone:
        return []
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        number = None
    forms = {phone}
    if number is not None:
        for style in (
            phonenumbers.PhoneNumberFormat.E164,
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            phonenumbers.PhoneNumberFormat.NATIONAL,
        ):
            forms.add(phonenumbers.format_number(number, style))
        forms.add(f"00{number.country_code}{number.national_number}")
    digit_runs = {"".join(c for c in form if c.isdigit()) for form in forms}
    return [
        r"\+?\(?" + _SEPARATORS.join(digits)
        for digits in sorted(digit_runs, key=len, reverse=True)
        if len(digits) >= 6
    ]


def _name_parts(name: str, organisation: str | None) -> list[str]:
    taken = {word.lower() for word in re.findall(r"\w+", organisation or "")}
    parts = {p for p in re.findall(r"[^\W\d_][\w'-]*", name) if len(p) >= MIN_NAME_PART}
    return [p for p in parts if p.lower() not in taken]


def scrubber(
    *,
    name: str | None,
    email: str | None,
    phone: str | None,
    organisation: str | None = None,
    region: str = "GB",
) -> Scrubber:
    names = [n for n in {(name or "").strip(), *_name_parts(name or "", organisation)} if n]
    groups = []
    if email:
        groups.append(rf"(?P<email>{re.escape(email.strip())})")
    phones = _phone_patterns(phone, region)
    if phones:
        groups.append(r"(?P<phone>(?<![\d+])(?:" + "|".join(phones) + r")(?!\d))")
    if names:
        alternatives = "|".join(re.escape(n) for n in _longest_first(names))
        groups.append(rf"(?P<name>(?<!\w)(?:{alternatives})(?!\w))")
    if not groups:
        return Scrubber(None)
    return Scrubber(re.compile("|".join(groups), re.IGNORECASE))


def _longest_first(words: Iterable[str]) -> list[str]:
    return sorted(words, key=lambda w: (-len(w), w))
