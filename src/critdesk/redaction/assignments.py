"""Secrets given a name: ``password = …``, ``api_token: …``, ``<password>…</password>``,
``mysql -p…``, ``IDENTIFIED BY '…'``, and the value filters every secret goes through.

detect-secrets' ``KeywordDetector`` expressions decide what a "password = value" line is. They
work line by line and try every position of a line, which costs ~20 µs an expression for a
log line; so one pass over the whole lower-cased text first finds the places where one of its
keywords is followed by an assignment, and its expressions are then matched at those places
only, within their line. The other shapes are each found by one pass over the whole text with
an expression that starts with a literal, which the regex engine skips ahead to.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache

from detect_secrets.filters import heuristic
from detect_secrets.plugins import keyword as ds_keyword

from critdesk.redaction.names import trie_pattern
from critdesk.redaction.spans import Finding

KEYWORD_REASON = "password or secret in a configuration line (detect-secrets KeywordDetector)"

# Key words detect-secrets lacks (token-style names).
_EXTRA_WORDS = (
    "token",
    "credential",
    "api-key",
    "access-?key",
    "accesskey",
    "auth-?key",
    "secret-?key",
    "pass",
    "signing-?key",
    "encryption-?key",
    "master-?key",
    "sas-?token",
    "sas-?key",
    "session",
)
# One pass over the lower-cased text finds every key word (detect-secrets' and ours) followed
# by the rest of its key and an assignment ("=", ":", "=>", a quoted value after a space as in
# `private_key "x";`) or by a column gap (a key/value table row).


def _spellings(word: str) -> list[str]:
    """ "api_?key" -> ["api_key", "apikey"]: the literal spellings of a key word."""
    optional = word.find("?")
    if optional == -1:
        return [word]
    head, tail = word[: optional - 1], word[optional + 1 :]
    return [s for rest in _spellings(tail) for s in (head + word[optional - 1] + rest, head + rest)]


_ANY_KEY = re.compile(
    trie_pattern([s for w in (*ds_keyword.DENYLIST, *_EXTRA_WORDS) for s in _spellings(w)])
    + r"[\w.-]*[\]'\"]{0,2}[ \t]*(?:[:=!]|[\"']|[ \t]{2}\S)"
)
# detect-secrets' "key = value" expressions, the first that matches at a keyword wins. Left
# out: the quotes-required forms (each matches a subset of its quotes-optional twin) and the
# "value == key" comparison.
_KEYWORD_PATTERNS = (
    (ds_keyword.FOLLOWED_BY_EQUAL_SIGNS_REGEX, 5),
    (ds_keyword.FOLLOWED_BY_COLON_REGEX, 4),
    (ds_keyword.FOLLOWED_BY_ARROW_FUNCTION_SIGN_QUOTES_REQUIRED_REGEX, 4),
    (ds_keyword.FOLLOWED_BY_QUOTES_AND_SEMICOLON_REGEX, 3),
)
# At a key word: the rest of the key, the assignment and the value.
_ASSIGNED = re.compile(r"[\w.-]*[\"']?[ \t]*(?:=|:|=>|:=)[ \t]*(@?[\"']?)([^\s\"'<>]+)")
# At a key word: "api_key     value" in tables printed by vault, kubectl describe and the like.
_TABLE_ROW = re.compile(r"(?m)[\w.-]*[ \t]{2,}(\S+)[ \t]*$")

# (pattern on the lower-cased text or the original, reason, value must look random,
#  must stand at the start of its line, must follow whitespace or the line start)
# "the password is X", "password: X", "password X", "with secret X" (X must look random).
_PROSE_PASSWORD = re.compile(
    r"(?:password|passwd|passphrase|pwd|secret)(?:\s+(?:is\s+|was\s+set\s+to\s+)?|\s*[:=]\s*)"
    r"[\"'`]?([^\s\"'`;,&<>]+)"
)
_SQL_PASSWORD = re.compile(
    r"(?:identified\s+by|with\s+(?:encrypted\s+)?password|password\s+for\s+\S+\s*=)\s*"
    r"(?:'([^']+)'|\"([^\"]+)\")"
)
_XML_ELEMENT = re.compile(
    r"<((?:[\w-]*:)?[\w.-]*(?:password|passwd|pwd|secret|token|api-?key|credential)[\w.-]*)>"
    r"([^<\s][^<]*)</\1>"
)
_XML_ENTRY = re.compile(
    r"(?:key|name)=\"[\w.-]*(?:password|passwd|pwd|secret|token|apikey|api-key)[\w.-]*\"\s+"
    r"value=\"([^\"]+)\""
)
# mysql -pSECRET, --password=SECRET (not -p 5432, and not Maven's -Pprofile); curl -u u:SECRET.
# Each starts with the literal "-" and looks back for the whitespace before it.
_CLI_PASSWORD = re.compile(
    r"-(?<=\s-)(?:p|-password(?:=|\s+))(?!\d+\b)([^\s\"'-][^\s\"']*|\"[^\"]+\"|'[^']+')"
)
_CURL_USER = re.compile(r"-(?<=\s-)(?:u|-user)\s*[\"']?[^\s:\"']+:([^\s\"']+)")
# (pattern, runs on the lower-cased text, reason, value must look random, must follow
#  whitespace, literals: the pattern runs only on the lines holding one of them, or over the
#  whole text when there are none: those patterns start with a literal and scan fast)
_SHAPES = (
    (_PROSE_PASSWORD, True, "password given in prose", True, False, ()),
    (
        _SQL_PASSWORD,
        True,
        "password in an SQL statement",
        False,
        False,
        ("identified", "with password", "with encrypted", "password for"),
    ),
    (_XML_ELEMENT, True, "password or secret in an XML element", False, False, ()),
    (_XML_ENTRY, True, "password or secret in an XML entry", False, False, ('value="',)),
    (_CLI_PASSWORD, False, "password on a command line", False, True, ()),
    (_CURL_USER, False, "password on a command line (user:password)", False, True, ()),
)

# Words in a key name saying the value is about a secret, not the secret itself.
# fmt: off
_NOT_A_SECRET_WORDS = frozenset(
    (
        "policy", "length", "min", "max", "expiry", "expires", "expiration", "age", "days", "file",
        "path", "name", "type", "ref", "env", "hint", "reset", "prompt", "strength", "rotation",
        "changed", "required", "enabled", "label", "field", "url", "uri", "endpoint", "header",
        "count", "provider", "algorithm", "format", "mode", "version", "timeout", "ttl",
        "lifetime", "validity", "id", "ids", "manager", "location", "source", "mount", "method",
        "scope", "flow", "grant", "class", "attempts", "retries", "encoder", "hash",
        "salt", "pattern", "regex", "rule", "rules", "complexity", "history", "size", "bits", "arn"
    )
)
# fmt: on
_KEY_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# fmt: off
_PLACEHOLDERS = frozenset(
    (
        "null", "none", "nil", "true", "false", "yes", "no", "required", "optional", "redacted",
        "hidden", "masked", "undefined", "empty", "n/a", "na", "string", "str", "int", "text",
        "password", "secret", "token", "value", "default", "env", "unset", "blank", "xxx",
        "placeholder", "your_password", "your-password", "yourpassword", "<password>",
        "encrypted", "ok", "invalid", "expired", "missing", "incorrect", "wrong", "failed", "set",
        "not", "is", "the", "a", "was", "for", "from", "to", "of", "and", "or", "in", "on", "by",
        "bearer", "basic", "refresh", "access", "id", "ms", "s"
    )
)
# fmt: on
_PLACEHOLDER_SHAPES = re.compile(
    r"^(?:[*x•.#_-]+|\$.*|%\(?.*|\{\{.*|#\{.*|<.*>|\[.*\]|\(.*\)|@@.*|%[A-Z_]+%|ENV\[.*|"
    r"[A-Z][A-Z0-9_]*_(?:PASSWORD|SECRET|TOKEN|KEY)|process\.env\..*|os\.environ.*|\*+.*)$"
)
_DOTTED_NAME = re.compile(r"^[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$-]*){2,}$")
# A value ends at whitespace, a separator, or an "&" that starts the next query parameter.
_VALUE_END = re.compile(r"[\s;,<>)}\]|\"'`]|&(?=[\w.-]+=)")
_KEY_CHARS = frozenset(string.ascii_letters + string.digits + "._-")
_LOWER = frozenset(string.ascii_lowercase)
_UPPER = frozenset(string.ascii_uppercase)
_DIGITS = frozenset(string.digits)
_ALNUM = _LOWER | _UPPER | _DIGITS


def find(text: str, lower: str) -> Iterator[Finding]:
    """Named secrets in ``text``; ``lower`` is ``spans.lowered(text)``."""
    for hit in _ANY_KEY.finditer(lower):
        found = _at_key(text, lower, hit.start())
        if found is not None:
            yield found
    yield from _shapes(text, lower)


def _line_of(text: str, position: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return start, min(len(text) if end == -1 else end, start + 5000)


def _at_key(text: str, lower: str, position: int) -> Finding | None:
    """The secret assigned to the key whose key word starts at ``position``, if any:
    detect-secrets' reading first, then a token-style key, then a table row."""
    line_start, line_end = _line_of(text, position)
    line = text[line_start:line_end]
    at = position - line_start
    for pattern, group in _KEYWORD_PATTERNS:
        match = pattern.match(line, at)
        if match is not None:
            span = _keyword_value(line, match, group)
            if span is not None:
                return _finding(text, line_start + span[0], line_start + span[1], KEYWORD_REASON)
            break
    left, key = _key_at(line, at)
    if (left > 0 and line[left - 1] == "-") or _names_a_setting(key):
        return None
    assigned = _ASSIGNED.match(line, at)
    if assigned is not None:
        span = _value_span(line, assigned.start(2))
        if span is not None and acceptable(line[span[0] : span[1]], password_like=False):
            reason = "token or key in a setting"
            return _finding(text, line_start + span[0], line_start + span[1], reason)
        return None
    row = _TABLE_ROW.match(line, at)
    if row is not None and not line[:left].strip():
        value = row.group(1)
        if acceptable(value, password_like=True) and looks_random(value):
            start = line_start + row.start(1)
            return _finding(text, start, start + len(value), "secret in a key/value table")
    return None


def _finding(text: str, start: int, end: int, reason: str) -> Finding:
    return Finding(start, end, "secret", reason, text[start:end])


def _keyword_value(line: str, match: re.Match[str], group: int) -> tuple[int, int] | None:
    left, key = _key_at(line, match.start())
    if _names_a_setting(key) or _is_colon_prose(line, left, match):
        return None
    span = _value_span(line, match.start(group))
    # "password = get_password()" assigns no secret (detect-secrets' own filter, applied from
    # the key on, so that "connect('…password=x')" still counts).
    if span is None or (
        "(" in line[span[0] : span[1] + 1] and heuristic.is_indirect_reference(line[left:])
    ):
        return None
    return span if acceptable(line[span[0] : span[1]], password_like=True) else None


def _shapes(text: str, lower: str) -> Iterator[Finding]:
    for pattern, on_lower, reason, random_only, after_space, needs in _SHAPES:
        target = lower if on_lower else text
        windows = _lines_holding(lower, needs) if needs else [(0, len(text))]
        for window_start, window_end in windows:
            yield from _shape_hits(
                text,
                pattern.finditer(target, window_start, window_end),
                reason,
                random_only,
                after_space,
            )


def _lines_holding(lower: str, literals: tuple[str, ...]) -> list[tuple[int, int]]:
    """The lines holding one of ``literals``, merged into runs (one ``str.find`` pass each)."""
    starts: set[int] = set()
    for literal in literals:
        position = lower.find(literal)
        while position != -1:
            line_start = lower.rfind("\n", 0, position) + 1
            starts.add(line_start)
            line_end = lower.find("\n", position)
            position = -1 if line_end == -1 else lower.find(literal, line_end)
    windows: list[tuple[int, int]] = []
    for start in sorted(starts):
        end = lower.find("\n", start)
        end = len(lower) if end == -1 else end
        if windows and windows[-1][1] + 1 >= start:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def _shape_hits(
    text: str,
    matches: Iterator[re.Match[str]],
    reason: str,
    random_only: bool,
    after_space: bool,
) -> Iterator[Finding]:
    for match in matches:
        if not _placed(text, match.start(), after_space):
            continue
        start, end = match.span(match.lastindex or 0)
        if text[start : start + 1] in "\"'" and end - start >= 2:
            start, end = start + 1, end - 1
        value = text[start:end].strip()
        if acceptable(value, password_like=True) and (not random_only or looks_random(value)):
            yield Finding(start, start + len(value), "secret", reason, value)


def _placed(text: str, start: int, after_space: bool) -> bool:
    before = text[start - 1] if start > 0 else "\n"
    if after_space:
        return before.isspace()
    return not (before.isalnum() or before == "_")


def _key_at(line: str, start: int) -> tuple[int, str]:
    """The whole key name around a keyword (``db.password.file``) and where it starts."""
    left = start
    while left > 0 and start - left < 100 and line[left - 1] in _KEY_CHARS:
        left -= 1
    right = start
    while right < len(line) and right - start < 100 and line[right] in _KEY_CHARS:
        right += 1
    return left, line[left:right]


def _names_a_setting(key: str) -> bool:
    """``password_policy``, ``secretRef``, ``token.ttl``: a setting about a secret."""
    last = key.strip("._-").rsplit(".", 1)[-1]
    return any(word.lower() in _NOT_A_SECRET_WORDS for word in _KEY_WORD.findall(last))


def _is_colon_prose(line: str, key_left: int, match: re.Match[str]) -> bool:
    """ "Invalid password: account locked" is a message; "  password: x" a YAML line."""
    between = line[key_left : match.start(match.lastindex or 0)]
    if ":" not in between or "=" in between:
        return False
    prefix = line[:key_left]
    if not prefix.strip(" \t-{[,\"'#*/"):
        return False
    return not prefix.rstrip().endswith(("{", ",", '"', "'", "[", "|"))


def _value_span(line: str, start: int) -> tuple[int, int] | None:
    """The value starting at ``start``: to its closing quote, or to a delimiter."""
    if start >= len(line):
        return None
    quote = line[start - 1] if start > 0 and line[start - 1] in "\"'`" else ""
    if quote:
        end = line.find(quote, start)
        if end == -1:
            end = len(line)
    else:
        found = _VALUE_END.search(line, start)
        end = found.start() if found else len(line)
    while end > start and line[end - 1] in ".,:;":
        end -= 1
    return (start, end) if end > start else None


def is_placeholder(value: str) -> bool:
    """``****``, ``${DB_PASSWORD}``, ``<password>``, ``null``: no secret in it."""
    if value.lower() in _PLACEHOLDERS or value.startswith("[SECRET-"):
        return True
    if _PLACEHOLDER_SHAPES.match(value):
        return True
    return heuristic.is_templated_secret(value) or heuristic.is_prefixed_with_dollar_sign(value)


@lru_cache(maxsize=8192)
def acceptable(value: str, *, password_like: bool) -> bool:
    """Whether a value found after a key is a secret (detect-secrets' heuristic filters and
    ours); a token-style key also needs a random-looking value."""
    if len(value) < (3 if password_like else 8) or is_placeholder(value):
        return False
    if _DOTTED_NAME.match(value):
        return False  # a class or host name: org.apache.kafka…PlainLoginModule
    if heuristic.is_not_alphanumeric_string(value) and not any(c.isdigit() for c in value):
        return False
    if heuristic.is_sequential_string(value):
        return False
    return password_like or looks_random(value)


def looks_random(value: str) -> bool:
    """A token, not a word: digits or mixed case or symbols, and some entropy."""
    chars = set(value)
    kinds = (
        bool(chars & _LOWER) + bool(chars & _UPPER) + bool(chars & _DIGITS) + bool(chars - _ALNUM)
    )
    return kinds >= 2 and _entropy(value) >= 2.5


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character, over the value's own characters (the formula of
    detect-secrets' high-entropy plugins, without its charset loop: this runs per value)."""
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in Counter(value).values())
