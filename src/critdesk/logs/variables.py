"""Variables in a log message, found by their shape and replaced by ``<*>`` (pure).

Template mining groups messages by their constant words; the values an event carries —
numbers, ids, addresses, paths, times — are masked first so that they never split a group
and so that a template keeps the punctuation around a value (``[<*>]``, ``uid=<*>``,
``<*>:<*>``) rather than swallowing the whole token. Only shapes that are variables in any
log are masked here; a word that merely *varies* in one log (a user name, a state) is left
to the miner, which sees it change.

Masked, in this order (earlier shapes win, so a URL's digits are not masked twice):

- URLs — the scheme stays (``hdfs://<*>``): it says which kind of address;
- e-mail addresses, UUIDs, IPv6 and IPv4 addresses (a port stays apart: ``<*>:<*>``);
- host names that end in a well-known top-level domain (``proxy.example.co.uk``);
- absolute paths (``/var/log/x.log``, ``C:\\logs\\x.log``);
- quoted values (``'<*>'``, ``"<*>"``) up to 120 characters;
- hex numbers (``0x1f``, and runs of 8 or more hex digits that mix digits and letters);
- identifiers with a numeric part (``attempt_1445_0020_m_000009``, ``pool-3-thread-7``,
  ``msra-sa-41``) — but not words that merely contain a digit (``ssh2``, ``jk2_init``, ``4G``);
- numbers: integers, decimals, versions (``2.6.5``), each run of digits bounded by
  punctuation (so a time ``12:16:49`` reads ``<*>:<*>:<*>``, a list ``1,2`` reads ``<*>,<*>``).
"""

from __future__ import annotations

import re
from typing import Any

WILDCARD = "<*>"

_TLDS = "com|net|org|edu|gov|mil|int|info|biz|io|cloud|local|localdomain|internal|lan|corp|home"
# Source files name a place in code, not a host: "Foo.java:12" is not "host:port".
_SOURCE_FILES = "java|kt|scala|groovy|py|js|mjs|ts|go|rb|cs|c|cc|cpp|h|hpp|rs|php|swift|m|lua"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"

_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]{0,6}\.?"
_DAYS = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]{0,6},?"
# A written date ("Sat Jul  9", "9 Jul", "25-Nov-2026"): its words become one "<*>" each.
_DATE = re.compile(
    rf"\b(?:{_DAYS}\s+)?{_MONTHS}\s+\d{{1,2}}\b|\b\d{{1,2}}[\s-]{_MONTHS}(?:[\s-]\d{{2,4}})?\b"
)
_BOOLEAN = re.compile(r"(?<![\w.-])(?:true|false|True|False|TRUE|FALSE|null|NULL)(?![\w.-])")


def _date_words(found: re.Match[str]) -> str:
    return " ".join(WILDCARD for _ in found.group().split())


# One pass per shape; each is a plain ``re.sub`` with a constant replacement (fast in C).
_MASKS: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]{1,15}://)[^\s\]\)\"'<>,;]+"), r"\1<*>"),
    (re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?![\w-])"), WILDCARD),
    (
        re.compile(
            r"(?<![\w-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
            r"[0-9a-fA-F]{12}(?![\w-])"
        ),
        WILDCARD,
    ),
    (
        re.compile(
            r"(?<![\w:.])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])"
            r"|(?<![\w:.])(?:[0-9a-fA-F]{1,4}:){1,6}:(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*)?"
            r"(?![\w:])"
        ),
        WILDCARD,
    ),
    (re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\w)"), WILDCARD),
    (
        re.compile(
            rf"(?<![\w.-])(?:{_LABEL}\.)+(?:(?:{_TLDS})|{_LABEL}\.[a-z]{{2}})(?![\w.-]|\.\w)",
            re.IGNORECASE,
        ),
        WILDCARD,
    ),
    # A name before ":port" is a host name whatever its top-level domain.
    (
        re.compile(
            r"(?<![\w.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
            rf"(?!(?:{_SOURCE_FILES})(?![\w.-]))[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?"
            r"(?=:\d+(?![\w.]))"
        ),
        WILDCARD,
    ),
    (
        re.compile(r"(?<![\w/.~-])(?:/[\w.@%+~$*-]+)+/?(?![\w/])|(?<!\w)[A-Za-z]:\\[^\s\"'<>|]*"),
        WILDCARD,
    ),
    (re.compile(r"'[^'\n]{1,120}'"), "'<*>'"),
    (re.compile(r'"[^"\n]{1,120}"'), '"<*>"'),
    (re.compile(r"(?<![\w.$])[A-Za-z_$][\w$]*(?:\.[\w$]+)*@[0-9a-f]{5,16}(?![\w.])"), WILDCARD),
    (_DATE, _date_words),
    (re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:[KMGTPE]i?B|B)(?![\w])"), WILDCARD),
    (
        re.compile(
            r"(?<![\w.])(?:0[xX][0-9a-fA-F]+|(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])"
            r"[0-9a-fA-F]{8,})(?![\w.])"
        ),
        WILDCARD,
    ),
    (
        re.compile(
            r"(?<![\w.-])[A-Za-z][A-Za-z0-9]*(?:[_-][A-Za-z0-9]+)*?[_-]-?\d+(?:[_-][A-Za-z0-9]+)*"
            r"(?![\w-])"
        ),
        WILDCARD,
    ),
    (re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)*(?![\w])"), WILDCARD),
    (_BOOLEAN, WILDCARD),
)
# Without a digit only URLs, e-mails, host names, paths, quoted values and booleans can be
# there.
_NO_DIGIT_MASKS = tuple(_MASKS[i] for i in (0, 1, 5, 7, 8, 9, len(_MASKS) - 1))
_WILDCARD_RUN = re.compile(r"(?:<\*>)+")
_QUICK_DIGIT = re.compile(r"\d")


def mask(message: str) -> str:
    """``message`` with every variable of a known shape replaced by ``<*>``."""
    if not _QUICK_DIGIT.search(message):
        for pattern, replacement in _NO_DIGIT_MASKS:
            message = pattern.sub(replacement, message)
        return message
    for pattern, replacement in _MASKS:
        message = pattern.sub(replacement, message)
    return _WILDCARD_RUN.sub(WILDCARD, message)


def has_wildcard(token: str) -> bool:
    return WILDCARD in token
