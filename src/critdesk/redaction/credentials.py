"""Secrets: passwords, keys, tokens, private keys, cookies and auth headers.

Built on detect-secrets: its regex plugins (cloud keys, vendor tokens, JWTs, basic-auth URLs)
and its private-key headers, here; its ``KeywordDetector`` expressions and heuristic filters
in ``assignments`` ("password = …" lines). What it does not cover, or covers only as a yes/no
per line, is added with exact spans: whole PEM blocks, HTTP auth headers and cookies, session
ids in URLs, SAS signatures and a few more cloud key formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from critdesk.redaction.assignments import is_placeholder
from critdesk.redaction.names import trie_pattern
from critdesk.redaction.spans import Finding

# Regex plugins run as they are over the whole text. Those whose expression captures the
# secret in a group (the rest of the match is context) are marked True. The keyword-style
# plugins of IBM, SoftLayer and Cloudant are left out: each starts with a look-behind that
# cannot be skipped ahead on (slow on megabytes), and the lines they look for ("…_key = …",
# "…password: …") are covered by the keyword scan below.
_REGEX_PLUGINS: tuple[tuple[type[RegexBasedDetector], bool], ...] = (
    (AWSKeyDetector, False),
    (AzureStorageKeyDetector, False),
    (ArtifactoryDetector, False),
    (BasicAuthDetector, True),
    (DiscordBotTokenDetector, False),
    (GitHubTokenDetector, False),
    (GitLabTokenDetector, False),
    (MailchimpDetector, False),
    (NpmDetector, True),
    (OpenAIDetector, False),
    (PypiTokenDetector, False),
    (SendGridDetector, False),
    (SlackDetector, False),
    (SquareOAuthDetector, False),
    (StripeDetector, False),
    (TelegramBotTokenDetector, False),
    (TwilioKeyDetector, False),
)
_DELIMITERS = " \t\r\n=:\"'"

# Formats detect-secrets 1.5 does not know, each with the literal it starts with.
_EXTRA_TOKENS = (
    ("Google API key", "AIza", re.compile(r"AIza[0-9A-Za-z_\-]{35}(?![\w-])")),
    ("Google OAuth client secret", "GOCSPX-", re.compile(r"GOCSPX-[\w-]{24,32}(?![\w-])")),
    ("GitHub fine-grained token", "github_pat_", re.compile(r"github_pat_\w{60,90}(?!\w)")),
    # Starts at "8Q~", three characters into the secret (a literal to skip ahead to).
    ("Azure AD client secret", "8Q~", re.compile(r"8Q~[\w~.-]{31,34}(?![\w~.-])")),
    (
        "OpenAI API key",
        "sk-",
        re.compile(r"sk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{40,}(?![\w-])"),
    ),
    ("npm token", "npm_", re.compile(r"npm_[A-Za-z0-9]{36}(?!\w)")),
)


@dataclass(frozen=True)
class _Detector:
    pattern: re.Pattern[str]
    reason: str
    captures: bool  # the secret is the last non-empty group, the rest is context
    back: int = 0  # the secret starts this many characters before the match


_DETECTORS = (
    *(
        _Detector(pattern, f"{plugin.secret_type} (detect-secrets {plugin.__name__})", captures)
        for plugin, captures in _REGEX_PLUGINS
        for pattern in plugin.denylist  # type: ignore[attr-defined]
    ),
    *(
        _Detector(pattern, name, False, 3 if literal == "8Q~" else 0)
        for name, literal, pattern in _EXTRA_TOKENS
    ),
)

# Most expressions start with a literal ("AKIA", "ghp_"; Stripe's one character later): one
# pass over the text finds all those literals, and each expression is matched only where its
# own literal stands. The others (a character class or an alternation first, or
# case-insensitive) run only on the lines where a cheap gate that each of their matches
# contains is found in the lower-cased text. Either way the plugin's own expression decides;
# BasicAuth's and npm's start with "//", common in URLs, and scan the whole text.
_GITLAB = GitLabTokenDetector.denylist
_PREFIXES: dict[re.Pattern[str], tuple[tuple[str, ...], int]] = {
    AWSKeyDetector.denylist[0]: (("A3T", "ABIA", "ACCA", "AKIA", "ASIA"), 0),
    AzureStorageKeyDetector.denylist[0]: (("AccountKey=",), 0),
    GitHubTokenDetector.denylist[0]: (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), 0),
    _GITLAB[0]: (("glpat-", "gldt-", "glft-", "glsoat-", "glrt-"), 0),
    _GITLAB[1]: (("GR1348941",), 0),
    _GITLAB[2]: (("glcbt-",), 0),
    _GITLAB[3]: (("glimt-",), 0),
    _GITLAB[4]: (("glptt-",), 0),
    _GITLAB[5]: (("glagent-",), 0),
    _GITLAB[6]: (("gloas-",), 0),
    OpenAIDetector.denylist[0]: (("sk-",), 0),
    **dict.fromkeys(PypiTokenDetector.denylist, (("pypi-Ag",), 0)),
    SendGridDetector.denylist[0]: (("SG.",), 0),
    SquareOAuthDetector.denylist[0]: (("sq0csp-",), 0),
    StripeDetector.denylist[0]: (("k_live_",), 1),
    TwilioKeyDetector.denylist[0]: (("AC",), 0),
    TwilioKeyDetector.denylist[1]: (("SK",), 0),
    **{pattern: ((literal,), 0) for _, literal, pattern in _EXTRA_TOKENS},
}
# For each literal, the detectors to try where it stands (with those of shorter literals it
# begins with: "ACCA" also starts Twilio's "AC…"), and how far before it their match starts.
_BY_PREFIX: dict[str, list[tuple[_Detector, int]]] = {}
for _detector in _DETECTORS:
    for _literal in _PREFIXES.get(_detector.pattern, ((), 0))[0]:
        _BY_PREFIX.setdefault(_literal, [])
for _literal, _tries in _BY_PREFIX.items():
    for _detector in _DETECTORS:
        _literals, _offset = _PREFIXES.get(_detector.pattern, ((), 0))
        if any(_literal.startswith(other) for other in _literals):
            _tries.append((_detector, _offset))
_PREFIX_GATE = re.compile(trie_pattern(list(_BY_PREFIX)))
_GATES: dict[re.Pattern[str], re.Pattern[str]] = {
    AWSKeyDetector.denylist[1]: re.compile(r"aws"),
    **dict.fromkeys(ArtifactoryDetector.denylist, re.compile(r"(?:akc|ap[\da-f])[a-z0-9]{8}")),
    **dict.fromkeys(DiscordBotTokenDetector.denylist, re.compile(r"\.[a-z\d_-]{6}\.[a-z\d_-]{27}")),
    **dict.fromkeys(MailchimpDetector.denylist, re.compile(r"-us\d")),
    **dict.fromkeys(TelegramBotTokenDetector.denylist, re.compile(r":[0-9a-z_-]{35}")),
    SlackDetector.denylist[0]: re.compile(r"xox"),
    SlackDetector.denylist[1]: re.compile(r"hooks\.slack\.com"),
}

_PEM = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END \1PRIVATE KEY(?: BLOCK)?-----|[\s\S]*?(?=\n\s*\n|[\"']|\Z))",
    re.DOTALL,
)
_PUTTY = re.compile(r"PuTTY-User-Key-File-\d+:.*?(?:Private-MAC: *[0-9a-fA-F]+|\Z)", re.DOTALL)
_JWT_TAIL = re.compile(r"[A-Za-z0-9_\-+/=]*")

_AUTH_HEADER = re.compile(
    r"(?i)authorization\s*[:=]\s*[\"']?"
    r"(bearer|basic|digest|negotiate|ntlm|token|apikey|sharedkey|aws4-hmac-sha256)\s+"
    r"([^\s\"',`]+(?:,\s*[\w-]+=[^\s\"',`]+)*)"
)
_COOKIE_HEADER = re.compile(r"(?i)cookie\s*:\s*([^\r\n]*)")
# Netscape cookies.txt: domain, subdomains, path, secure, expiry, name, value (tabs).
_COOKIE_FILE_ROW = re.compile(
    r"(?m)^\S+\t(?:TRUE|FALSE)\t\S*\t(?:TRUE|FALSE)\t\d+\t([^\t\n]+)\t([^\t\n]+?)\s*$"
)
_COOKIE_PAIR = re.compile(r"\s*([!#$%&'*+\-.^_`|~\w]+)=([^;\s]*)")
# fmt: off
_COOKIE_ATTRIBUTES = frozenset(
    (
        "path", "domain", "expires", "max-age", "samesite", "secure", "httponly", "priority",
        "version", "comment", "partitioned"
    )
)
# fmt: on
_SESSION_PARAM = re.compile(
    r"[;?&](jsessionid|phpsessid|sid|sessionid|session_id)=([\w.\-+/%]{8,})"
)
_SAS_SIGNATURE = re.compile(r"[?&]sig=([\w%+/=-]{16,})")


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    reason: str


def find(text: str, lower: str) -> Iterator[Finding]:
    """Secrets with a recognisable shape in ``text``; ``lower`` is ``spans.lowered(text)``."""
    for hit in _hits(text, lower):
        value = text[hit.start : hit.end]
        yield Finding(hit.start, hit.end, "secret", hit.reason, value)


def _hits(text: str, lower: str) -> Iterator[_Hit]:
    yield from _plugin_hits(text, lower)
    yield from _jwt_hits(text)
    yield from _private_keys(text)
    yield from _header_hits(text, lower)


def _plugin_hits(text: str, lower: str) -> Iterator[_Hit]:
    for hit in _PREFIX_GATE.finditer(text):
        for detector, offset in _BY_PREFIX[hit.group()]:
            if hit.start() >= offset:
                match = detector.pattern.match(text, hit.start() - offset)
                if match is not None:
                    yield from _hit(text, detector, match)
    for detector in _DETECTORS:
        if detector.pattern in _PREFIXES:
            continue
        gate = _GATES.get(detector.pattern)
        windows = [(0, len(text))] if gate is None else _lines_with(gate, lower)
        for start, end in windows:
            for match in detector.pattern.finditer(text, start, end):
                yield from _hit(text, detector, match)
    if "sig=" in text:
        for match in _SAS_SIGNATURE.finditer(text):
            yield _Hit(*match.span(1), "Azure SAS signature")
    if "sid" in lower:
        for match in _SESSION_PARAM.finditer(lower):
            yield _Hit(*match.span(2), f"session id in a URL ({match.group(1)})")


def _hit(text: str, detector: _Detector, match: re.Match[str]) -> Iterator[_Hit]:
    group = _last_group(match) if detector.captures else 0
    start, end = _strip(text, *match.span(group))
    start = max(0, start - detector.back)
    if end - start >= 8:
        yield _Hit(start, end, detector.reason)


def _lines_with(gate: re.Pattern[str], lower: str) -> Iterator[tuple[int, int]]:
    """The lines where ``gate`` is found."""
    position = 0
    while (hit := gate.search(lower, position)) is not None:
        start, end = _line_around(lower, hit.start(), hit.end())
        yield start, end
        position = end + 1


def _line_around(text: str, start: int, end: int) -> tuple[int, int]:
    line_end = text.find("\n", end)
    return text.rfind("\n", 0, start) + 1, len(text) if line_end == -1 else line_end


def _last_group(match: re.Match[str]) -> int:
    for index in range(len(match.groups()), 0, -1):
        if match.group(index):
            return index
    return 0


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _DELIMITERS:
        start += 1
    while end > start and text[end - 1] in _DELIMITERS:
        end -= 1
    return start, end


def _jwt_hits(text: str) -> Iterator[_Hit]:
    for pattern in JwtTokenDetector.denylist:
        for match in pattern.finditer(text):
            # detect-secrets' expression is lazy at the end: extend over the signature.
            tail = _JWT_TAIL.match(text, match.end())
            end = tail.end() if tail else match.end()
            token = text[match.start() : end].rstrip(".=")
            if JwtTokenDetector.is_formally_valid(token):
                yield _Hit(
                    match.start(),
                    match.start() + len(token),
                    "JSON Web Token (detect-secrets JwtTokenDetector)",
                )


def _private_keys(text: str) -> Iterator[_Hit]:
    if "PRIVATE KEY" in text:
        reason = "private key block (detect-secrets PrivateKeyDetector)"
        for match in _PEM.finditer(text):
            header = text[match.start() : match.start() + 60]
            if any(p.search(header) for p in PrivateKeyDetector.denylist):
                yield _Hit(match.start(), match.end(), reason)
    if "PuTTY-User-Key-File" in text:
        for match in _PUTTY.finditer(text):
            yield _Hit(
                match.start(), match.end(), "PuTTY private key (detect-secrets PrivateKeyDetector)"
            )


def _header_hits(text: str, lower: str) -> Iterator[_Hit]:
    position = lower.find("authorization")
    while position != -1:
        match = _AUTH_HEADER.match(text, position)
        if match is not None and not is_placeholder(match.group(2)):
            scheme = match.group(1).title()
            yield _Hit(*match.span(2), f"{scheme} credentials in an Authorization header")
        position = lower.find("authorization", position + 13)
    if "\tTRUE\t" in text or "\tFALSE\t" in text:
        for row in _COOKIE_FILE_ROW.finditer(text):
            if len(row.group(2)) >= 8 and not is_placeholder(row.group(2)):
                yield _Hit(*row.span(2), f"cookie value ({row.group(1)}) in a cookie file")
    position = lower.find("cookie")
    while position != -1:
        header = _COOKIE_HEADER.match(text, position)
        if header is not None:
            yield from _cookie_hits(header)
        position = lower.find("cookie", position + 6)


def _cookie_hits(header: re.Match[str]) -> Iterator[_Hit]:
    offset = header.start(1)
    for pair in _COOKIE_PAIR.finditer(header.group(1)):
        name, value = pair.group(1), pair.group(2)
        if name.casefold() in _COOKIE_ATTRIBUTES or len(value) < 8 or is_placeholder(value):
            continue
        yield _Hit(offset + pair.start(2), offset + pair.end(2), f"cookie value ({name})")
