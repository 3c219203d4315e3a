"""What every detector returns: a candidate span with its category, reason and identity."""

from __future__ import annotations

from typing import NamedTuple

CATEGORIES = (
    "organisation",
    "contact",
    "email",
    "phone",
    "ip",
    "hostname",
    "url",
    "path",
    "secret",
    "case_ref",
    "environment",
    "custom",
)

PLACEHOLDER_PREFIX = {
    "organisation": "ORG",
    "contact": "CONTACT",
    "email": "EMAIL",
    "phone": "PHONE",
    "ip": "IP",
    "hostname": "HOST",
    "url": "URL",
    "path": "PATH",
    "secret": "SECRET",
    "case_ref": "CASE",
    "environment": "ENV",
    "custom": "REDACTED",
}

# When two candidates cover exactly the same span, the earlier category here wins.
PRIORITY = {
    category: rank
    for rank, category in enumerate(
        (
            "custom",
            "secret",
            "email",
            "url",
            "ip",
            "phone",
            "path",
            "organisation",
            "contact",
            "hostname",
            "environment",
            "case_ref",
        )
    )
}


class Finding(NamedTuple):
    """A span a detector wants replaced (a named tuple: detectors make many of these).

    ``key`` is what makes two findings "the same thing" for placeholder numbering: a
    canonical form (an e-mail in lower case, an IP in compressed form, a phone number in
    E.164, a known name's canonical spelling), so variants of one value share a placeholder.
    """

    start: int
    end: int
    category: str
    reason: str
    key: str


def lowered(text: str) -> str:
    """``text`` in lower case with every offset unchanged (for case-insensitive scans).

    Scanning a lower-cased copy with a case-sensitive expression is several times faster than
    a case-insensitive expression; a few characters lower-case to two ("İ"), so those are cut
    back to one to keep offsets aligned.
    """
    lower = text.lower()
    if len(lower) != len(text):
        lower = "".join(c.lower()[0] for c in text)
    return lower
