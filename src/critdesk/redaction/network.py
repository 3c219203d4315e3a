"""E-mail addresses, URLs, host names and IP addresses.

Addresses are validated, not just shaped: IPs with the standard library's ``ipaddress``
(so ``999.1.1.1`` or a timestamp ``10:00:00`` is no address), e-mail domains label by label.
Public technology (``maven.apache.org``, ``localhost``, ``127.0.0.1``) is kept; a host is the
customer's when the desk knows its domain, when it has an internal suffix (``.local``,
``.corp``…), when it sits under a cloud tenant suffix (``x.rds.amazonaws.com``) or, failing
those, when it is a plausible DNS name with a public suffix and not on the keep list.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache

from critdesk.redaction.keep import (
    KEEP_DOMAINS,
    KEEP_IPS,
    PUBLIC_SERVICE_LABELS,
    TENANT_SUFFIXES,
)
from critdesk.redaction.names import trie_pattern
from critdesk.redaction.spans import Finding

# Suffixes that only name machines inside an organisation. "example" is here because the
# desk's own demo customers live under it (northwind.example); example.com stays kept.
INTERNAL_TLDS = frozenset(
    ("local", "internal", "corp", "lan", "intra", "intranet", "localdomain", "private", "example")
)
# Public suffixes trusted to make a dotted word a host name. Left out on purpose: those that
# are also file extensions or code (py, sh, md, rs, pl, js, so, zip, mov, info, app, dev, in,
# is, it, at, me, to, do, no, ai), which would turn "setup.py" or "log.info" into hosts.
PUBLIC_TLDS = frozenset(
    (
        "com",
        "net",
        "org",
        "io",
        "co",
        "biz",
        "cloud",
        "online",
        "site",
        "tech",
        "xyz",
        "gov",
        "edu",
        "mil",
        "int",
        "uk",
        "de",
        "fr",
        "nl",
        "be",
        "ch",
        "es",
        "se",
        "dk",
        "fi",
        "ie",
        "pt",
        "eu",
        "us",
        "ca",
        "au",
        "nz",
        "jp",
        "br",
        "za",
        "sg",
        "hk",
        "ru",
        "mx",
        "pl",
        "at",
        "it",
        "no",
        "in",
        "cz",
        "hu",
        "gr",
        "ro",
        "lu",
        "ae",
        "sa",
        "tr",
        "kr",
        "tw",
        "ar",
        "cl",
    )
)
# Suffixes allowed on a two-label host ("acme.com"); others need three labels ("a.acme.it").
TWO_LABEL_TLDS = frozenset(
    (
        "com",
        "net",
        "org",
        "co",
        "biz",
        "gov",
        "edu",
        "uk",
        "de",
        "fr",
        "nl",
        "be",
        "ch",
        "es",
        "se",
        "dk",
        "fi",
        "ie",
        "pt",
        "eu",
        "us",
        "ca",
        "au",
        "nz",
        "jp",
        "br",
        "za",
        "sg",
        "hk",
        "cloud",
        "online",
        "tech",
    )
)
WEB_SCHEMES = frozenset(("http", "https", "ftp", "ftps", "ws", "wss", "sftp"))

_DOC_EMAIL_DOMAINS = frozenset(("example.com", "example.org", "example.net"))
_EMAIL_LOCAL_TAIL = re.compile(r"[A-Za-z0-9._%+'-]{1,64}\Z")
_EMAIL_DOMAIN = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![A-Za-z0-9-])"
)
_SCHEME_TAIL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,30}\Z")
_AUTHORITY_END = re.compile(r"[\s/?#\"'<>\\]")
_HOST_PART = re.compile(r"(\[[0-9A-Fa-f:.%\w]+\]|[^\s/:?#\\;,\"'`<>()\[\]{}@]+)(?::\d{1,5})?")
# Hosts written in documentation as placeholders, not as anybody's machine.
_PLACEHOLDER_HOSTS = frozenset(
    (
        "host",
        "hostname",
        "server",
        "servername",
        "your-host",
        "yourhost",
        "myhost",
        "my-host",
        "example",
        "domain",
        "your-domain",
        "address",
        "ip",
        "db",
        "database",
        "port",
    )
)
_URL_REST = re.compile(r"[^\s\"'<>`{}|\\^]*")
# Scans start with a literal character, which the regex engine skips ahead to quickly.
_IPV4_ANCHOR = re.compile(r"\.\d{1,3}\.\d{1,3}\.\d{1,3}")
_IPV6_ANCHOR = re.compile(r"::|:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:")
_IPV6_CHARS = frozenset("0123456789abcdefABCDEF:")
_IPV6_TAIL = re.compile(r"[0-9A-Fa-f:]+(?:\.\d{1,3}){0,3}(?:%[\w.]+)?")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_UNC = re.compile(r"\\\\([A-Za-z0-9][\w.-]{0,62})\\")
# Browser versions in user agents look like addresses (Chrome/131.0.0.0); Java's
# "host/10.0.0.5" does not count, so only browser product names are recognised.
_PRODUCT_TOKEN = re.compile(
    r"(?<![\w.-])(?:Chrome|Chromium|CriOS|Safari|Firefox|FxiOS|Edge?|EdgA|OPR|Opera|Version|"
    r"AppleWebKit|Gecko|Trident|MSIE|Mobile|YaBrowser|SamsungBrowser)/\Z"
)
_VERSION_BEFORE = re.compile(r"(?i)(?:version|ver|release|build|firmware|v)[\s:=#]*\Z")
_NETMASKS = frozenset(
    str(ipaddress.IPv4Network(f"0.0.0.0/{bits}").netmask) for bits in range(0, 33)
)


@dataclass(frozen=True)
class HostPolicy:
    """What the caller knows: the customer's own domains/hosts and extra kept domains."""

    known: frozenset[str] = frozenset()
    keep: frozenset[str] = frozenset()

    @cached_property
    def tld_anchor(self) -> re.Pattern[str]:
        """A dot and a suffix that can end a host name, not followed by more of a name."""
        tlds = PUBLIC_TLDS | INTERNAL_TLDS | {d.rsplit(".", 1)[-1] for d in self.known}
        tlds |= {d.rsplit(".", 1)[-1] for d in TENANT_SUFFIXES}
        # Runs on the lower-cased text (faster than re.IGNORECASE).
        return re.compile(rf"\.{trie_pattern(sorted(tlds))}(?![\w-]|\.[a-z0-9-])")

    @cached_property
    def _domains(self) -> dict[str, str]:
        """Every domain with what it is: the customer's, a cloud tenant suffix, or kept."""
        kinds = dict.fromkeys(TENANT_SUFFIXES, "tenant")
        kinds |= dict.fromkeys(KEEP_DOMAINS | self.keep, "keep")
        return kinds | dict.fromkeys(self.known, "known")

    def _nearest(self, host: str) -> tuple[str, str] | None:
        """The longest listed domain that ``host`` equals or is a subdomain of, and its kind."""
        domains = self._domains
        index = -1
        while True:
            suffix = host[index + 1 :]
            kind = domains.get(suffix)
            if kind is not None:
                return suffix, kind
            index = host.find(".", index + 1)
            if index == -1:
                return None

    def known_domain(self, host: str) -> str | None:
        return _suffix_in(host, self.known)

    def kept(self, host: str) -> bool:
        nearest = self._nearest(host)
        return nearest is not None and nearest[1] == "keep"

    def classify(self, host: str, *, in_url: bool) -> str | None:
        """The reason ``host`` is the customer's, or None when it is public or not a host."""
        return _classify(self, host.lower().rstrip("."), in_url)

    def _classify(self, host: str, in_url: bool) -> str | None:
        known = self.known_domain(host)
        if known is not None:
            return f"host of the customer's domain {known!r}" if known != host else "known host"
        nearest = self._nearest(host)
        if nearest is not None and nearest[1] == "tenant":
            tenant = nearest[0]
            labels = host[: -len(tenant)].rstrip(".").split(".")
            if host != tenant and labels[0] not in PUBLIC_SERVICE_LABELS:
                return f"customer's own resource under {tenant}"
            return None
        if nearest is not None or ((host[-1:].isdigit() or ":" in host) and _is_ip(host)):
            return None
        labels = host.split(".")
        tld = labels[-1]
        if tld in INTERNAL_TLDS and len(labels) >= 2:
            return f"internal host name (.{tld})"
        if in_url:
            return "host name in a URL"
        if tld in PUBLIC_TLDS and (len(labels) >= 3 or tld in TWO_LABEL_TLDS):
            return "host name"
        return None


# Logs name the same hosts over and over: each is classified once per policy.
@lru_cache(maxsize=16384)
def _classify(policy: HostPolicy, host: str, in_url: bool) -> str | None:
    return policy._classify(host, in_url)


def _suffix_in(host: str, domains: frozenset[str]) -> str | None:
    """The member of ``domains`` that ``host`` equals or is a subdomain of."""
    if host in domains:
        return host
    index = host.find(".")
    while index != -1:
        suffix = host[index + 1 :]
        if suffix in domains:
            return suffix
        index = host.find(".", index + 1)
    return None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


def find_emails(text: str) -> Iterator[Finding]:
    at = text.find("@")
    while at != -1:
        local = _EMAIL_LOCAL_TAIL.search(text, max(0, at - 64), at)
        domain = _EMAIL_DOMAIN.match(text, at + 1)
        if local is not None and domain is not None:
            start = local.start()
            while start < at and text[start] in ".'":
                start += 1
            address = text[start : domain.end()]
            local_part = text[start:at]
            if _in_url_authority(text, start):
                at = text.find("@", at + 1)
                continue  # scheme://user:password@host: found by the URL scan
            domain_name = domain.group().casefold()
            if (
                local_part
                and ".." not in local_part
                and not local_part.endswith(".")
                and domain_name not in _DOC_EMAIL_DOMAINS
                and local_part != "git"
            ):
                yield Finding(start, domain.end(), "email", "e-mail address", address.casefold())
        at = text.find("@", at + 1)


def _in_url_authority(text: str, start: int) -> bool:
    token_start = max(0, text.rfind(" ", 0, start), text.rfind("\n", 0, start), start - 300)
    return text.find("://", token_start, start) != -1


def find_urls(text: str, policy: HostPolicy) -> Iterator[Finding]:
    index = text.find("://")
    while index != -1:
        yield from _url_at(text, index, policy)
        index = text.find("://", index + 3)


def _url_at(text: str, index: int, policy: HostPolicy) -> Iterator[Finding]:
    scheme_match = _SCHEME_TAIL.search(text, max(0, index - 31), index)
    if scheme_match is None:
        return
    scheme = scheme_match.group().rsplit(":", 1)[-1].casefold()
    authority_end = _AUTHORITY_END.search(text, index + 3)
    limit = authority_end.start() if authority_end else len(text)
    # The host follows the last "@" of the authority: passwords may hold "@" themselves.
    at = text.rfind("@", index + 3, limit)
    if at != -1:
        colon = text.find(":", index + 3, at)
        if colon != -1 and at - colon > 1:
            yield Finding(
                colon + 1, at, "secret", f"password in a {scheme} URL", text[colon + 1 : at]
            )
    host_match = _HOST_PART.match(text, at + 1 if at != -1 else index + 3)
    if host_match is None:
        return
    host = host_match.group(1).strip("[]")
    if not any(c.isalnum() for c in host) or host.lower() in _PLACEHOLDER_HOSTS:
        return
    if _is_ip(host.split("%")[0]):
        return  # the address itself is found by the IP scan
    reason = policy.classify(host, in_url=True)
    if reason is None:
        return
    if scheme not in WEB_SCHEMES:
        # A connection string (jdbc:…, postgresql://, ldap://…): only its host is identifying;
        # the port and database name are kept as useful.
        start, end = host_match.span(1)
        yield Finding(start, end, "hostname", f"{reason} ({scheme})", host.casefold())
        return
    start = scheme_match.start()
    rest = _URL_REST.match(text, host_match.end())
    end = _trim_url_end(text, start, rest.end() if rest else host_match.end())
    yield Finding(start, end, "url", f"URL: {reason}", text[start:end].casefold())


def _trim_url_end(text: str, start: int, end: int) -> int:
    """Sentence punctuation and an unbalanced closing bracket are not part of a URL."""
    while end > start:
        last = text[end - 1]
        if last in ".,;:!?'\"" or (
            last == ")" and text.count("(", start, end) < text.count(")", start, end)
        ):
            end -= 1
        else:
            break
    return end


def find_hosts(text: str, lower: str, policy: HostPolicy) -> Iterator[Finding]:
    """Host names in ``text``; ``lower`` is ``spans.lowered(text)``."""
    seen: set[int] = set()
    for anchor in policy.tld_anchor.finditer(lower):
        # Found by its suffix (".com", ".local"…), then widened to the whole name.
        start = anchor.start()
        while start > 0 and text[start - 1] in _HOST_CHARS:
            start -= 1
        while start < anchor.start() and text[start] in ".-":
            start += 1
        end = anchor.end()
        if start == anchor.start() or start in seen:
            continue
        seen.add(start)
        before = text[start - 1] if start > 0 else ""
        if (before in ("@", "_", "\\") or (before == "/" and text[start - 2 : start] != "//")) or (
            end < len(text) and text[end] in "(@"
        ):
            continue  # part of an e-mail address or a path, or a method call
        host = text[start:end]
        if not host.rsplit(".", 1)[-1].islower() and policy.known_domain(host.casefold()) is None:
            continue  # System.Net, Foo.COM-style code and constants
        if any(not label or label[0] == "-" or label[-1] == "-" for label in host.split(".")):
            continue
        reason = policy.classify(host, in_url=False)
        if reason is not None:
            yield Finding(start, end, "hostname", reason, host.casefold())
    if "\\\\" in text:
        for match in _UNC.finditer(text):
            host = match.group(1)
            if not _is_ip(host) and not policy.kept(host.casefold()):
                yield Finding(*match.span(1), "hostname", "server of a UNC path", host.casefold())


def find_ips(text: str, keep: frozenset[str]) -> Iterator[Finding]:
    seen: set[int] = set()
    for anchor in _IPV4_ANCHOR.finditer(text):
        # The anchor starts at the first dot (a literal, fast to scan for); the first octet
        # is the run of at most three digits before it.
        start = anchor.start()
        while start > 0 and anchor.start() - start < 3 and text[start - 1].isdigit():
            start -= 1
        end = anchor.end()
        if start == anchor.start() or start in seen or not _ipv4_bounded(text, start, end):
            continue
        seen.add(start)
        value = text[start:end]
        if not _valid_ipv4(value) or value in KEEP_IPS or value in keep or value in _NETMASKS:
            continue
        if _VERSION_BEFORE.search(text, max(0, start - 12), start):
            continue
        if _PRODUCT_TOKEN.search(text, max(0, start - 40), start):
            continue  # a product token's version: Chrome/131.0.0.0 (not host/10.0.0.1)
        yield Finding(start, end, "ip", "IPv4 address", value)
    if ":" in text:
        yield from _find_ipv6(text, keep)


@lru_cache(maxsize=16384)
def _valid_ipv4(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _ipv4_bounded(text: str, start: int, end: int) -> bool:
    """Not part of a longer dotted number (1.3.6.1.4.1) or of a word (v10.0.0.1)."""
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "._"):
        return False
    if end < len(text):
        after = text[end]
        if after.isalnum() or after == "_":
            return False
        if after == "." and text[end + 1 : end + 2].isdigit():
            return False
    return True


def _find_ipv6(text: str, keep: frozenset[str]) -> Iterator[Finding]:
    seen: set[int] = set()
    for anchor in _IPV6_ANCHOR.finditer(text):
        start = anchor.start()
        while start > 0 and text[start - 1] in _IPV6_CHARS:
            start -= 1
        if start in seen:
            continue
        seen.add(start)
        tail = _IPV6_TAIL.match(text, start)
        end = tail.end() if tail else anchor.end()
        value = text[start:end].rstrip(":.")
        end = start + len(value)
        bare = value.split("%")[0]
        if ("::" not in bare and bare.count(":") < 7) or len(bare.strip(":")) < 3:
            continue
        if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_."):
            continue
        if end < len(text) and (text[end].isalnum() or text[end] == "_"):
            continue
        try:
            address = ipaddress.IPv6Address(bare)
        except ValueError:
            continue
        if bare in KEEP_IPS or str(address) in KEEP_IPS or bare in keep:
            continue
        yield Finding(start, end, "ip", "IPv6 address", str(address))
