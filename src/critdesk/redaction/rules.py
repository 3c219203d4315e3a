"""Redaction rules: a text in, the same text with placeholders out, each replacement explained.

Pure: no database, no clock, no I/O. The detectors (known names, e-mail addresses, URLs, host
names, IPs, phone numbers, home paths, secrets, case refs) each propose spans; overlapping
proposals are settled in favour of the longer one (an e-mail address beats the organisation
name inside it, a URL the host inside it); then every distinct value gets a numbered
placeholder per category, in order of first appearance, so ``[EMAIL-1]`` is the same address
everywhere in one text.

What the desk knows (``KnownTerms``) is compiled into matchers once and cached, so redacting
many texts for one organisation costs one compilation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from critdesk.redaction import assignments, credentials, network, paths, phones
from critdesk.redaction.keep import KEEP_IPS, KEEP_WORDS
from critdesk.redaction.names import NameMatcher, Term, normalise
from critdesk.redaction.spans import PLACEHOLDER_PREFIX, PRIORITY, Finding, lowered
from critdesk.redaction.variants import (
    AMBIGUOUS_FIRST_NAMES,
    SENTENCE_CONTINUATIONS,
    contact_variants,
    organisation_variants,
)

__all__ = ["KnownTerms", "Redacted", "Replacement", "redact"]


@dataclass(frozen=True)
class Replacement:
    category: str  # one of spans.CATEGORIES
    placeholder: str  # "[EMAIL-1]"
    start: int  # span in the original text
    end: int
    original: str
    reason: str  # why: "e-mail address", "known organisation 'Northwind Insurance'"…
    out_start: int  # span of the placeholder in the redacted text
    out_end: int


@dataclass(frozen=True)
class KnownTerms:
    organisations: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()  # people's names
    emails: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    hostnames: tuple[str, ...] = ()  # customer host and domain names
    keep: tuple[str, ...] = ()  # extra words never to redact (added to the defaults)


@dataclass(frozen=True)
class Redacted:
    text: str
    replacements: tuple[Replacement, ...]  # in order of position


_CASE_REF = re.compile(r"pch-\d{6,}(?!\w)")  # on the lower-cased text


class _Terms:
    """Known terms keyed by their normalised spelling; the first owner of a spelling keeps it."""

    def __init__(self, keep: frozenset[str]) -> None:
        self.keep = keep
        self.terms: dict[str, Term] = {}

    def add(self, text: str, term: Term, *, case_sensitive: bool = False) -> None:
        key = re.sub(r"\s+", " ", text.strip()) if case_sensitive else normalise(text)
        if len(key) >= 2 and normalise(text) not in self.keep and key not in self.terms:
            self.terms[key] = term


def _keep_words(keep: tuple[str, ...]) -> frozenset[str]:
    return KEEP_WORDS | {normalise(word) for word in keep}


@lru_cache(maxsize=8)
def _organisation_matcher(organisations: tuple[str, ...], keep: tuple[str, ...]) -> NameMatcher:
    """Every organisation's names in one matcher, shared by all the organisation-scoped
    engines: the desk may know thousands, and this is the costly one to compile."""
    full = _Terms(_keep_words(keep))
    variants: list[tuple[str, Term]] = []
    for name in organisations:
        term = Term(
            "organisation", f"org:{normalise(name)}", f"known organisation {name.strip()!r}"
        )
        full.add(name, term)
        variants.extend((variant, term) for variant in organisation_variants(name))
    for text, term in variants:  # after every full name, so that no variant takes one over
        full.add(text, term)
    return NameMatcher(full.terms)


class _Engine:
    """Matchers compiled for one ``KnownTerms`` and one set of extra terms."""

    def __init__(self, known: KnownTerms, extra: tuple[str, ...]) -> None:
        self.keep = _keep_words(known.keep)
        self.keep_ips = frozenset(word.strip() for word in known.keep) | KEEP_IPS
        self.organisations = _organisation_matcher(known.organisations, known.keep)
        terms, first_names = _Terms(self.keep), _Terms(self.keep)
        variants: list[tuple[str, Term]] = []
        for text in extra:
            reason = "term the author asked to redact"
            terms.add(text, Term("custom", f"custom:{normalise(text)}", reason))
        for name in known.contacts:
            term = Term("contact", f"contact:{normalise(name)}", f"known contact {name.strip()!r}")
            terms.add(name, term)
            spellings, first = contact_variants(name)
            variants.extend((spelling, term) for spelling in spellings)
            if first is not None:
                first_names.add(first, term, case_sensitive=True)
        for email in known.emails:
            terms.add(
                email, Term("email", email.strip().casefold(), "known contact e-mail address")
            )
        for name in known.environments:
            reason = f"known environment {name.strip()!r}"
            terms.add(name, Term("environment", f"env:{normalise(name)}", reason))
        for host in known.hostnames:
            reason = f"known customer host {host.strip()!r}"
            terms.add(host, Term("hostname", host.strip().casefold().rstrip("."), reason))
        for text, term in variants:
            terms.add(text, term)
        self.names = NameMatcher(terms.terms)
        self.first_names = NameMatcher(first_names.terms, case_sensitive=True)
        self.policy = network.HostPolicy(
            known=frozenset(h.strip().casefold().rstrip(".") for h in known.hostnames if "." in h),
            keep=frozenset(w.strip().casefold() for w in known.keep if "." in w),
        )

    def find(self, text: str) -> Iterator[Finding]:
        lower = lowered(text)
        yield from self.organisations.find(text, lower)
        yield from self.names.find(text, lower)
        for finding in self.first_names.find(text, lower):
            if text[finding.start : finding.end].lower() not in AMBIGUOUS_FIRST_NAMES or not (
                SENTENCE_CONTINUATIONS.match(text, finding.end)
            ):
                yield finding
        yield from credentials.find(text, lower)
        yield from assignments.find(text, lower)
        yield from network.find_emails(text)
        yield from network.find_urls(text, self.policy)
        yield from network.find_ips(text, self.keep_ips)
        yield from network.find_hosts(text, lower, self.policy)
        yield from phones.find(text)
        yield from paths.find(text, lower)
        for match in _CASE_REF.finditer(lower):
            if match.start() == 0 or not (
                lower[match.start() - 1].isalnum() or lower[match.start() - 1] in "_-"
            ):
                yield Finding(
                    match.start(), match.end(), "case_ref", "case reference", match.group().upper()
                )


@lru_cache(maxsize=128)
def _engine(known: KnownTerms, extra: tuple[str, ...]) -> _Engine:
    return _Engine(known, extra)


def redact(
    text: str,
    known: KnownTerms = KnownTerms(),
    *,
    extra: Sequence[str] = (),
    allow: Sequence[str] = (),
) -> Redacted:
    """``text`` with every finding replaced by its placeholder, and the replacements made."""
    engine = _engine(known, tuple(t for t in extra if t.strip()))
    findings = [f for f in engine.find(text) if f.end > f.start]
    kept = _allowed_spans(text, allow)
    if kept:
        findings = [
            f for f in findings if not any(start <= f.start and f.end <= end for start, end in kept)
        ]
    return _apply(text, _settle(findings))


def _allowed_spans(text: str, allow: Sequence[str]) -> list[tuple[int, int]]:
    """Where the originals the author keeps stand: nothing inside them is replaced."""
    terms = {normalise(a) for a in allow if a.strip()}
    if not terms:
        return []
    lower = lowered(text)
    spans = []
    for term in terms:
        for match in re.finditer(re.escape(term).replace(r"\ ", r"\s+"), lower):
            spans.append(match.span())
    return spans


def _settle(findings: list[Finding]) -> list[Finding]:
    """Non-overlapping findings: the longer one wins; a partial overlap is merged into it."""
    findings.sort(key=lambda f: (f.start, f.start - f.end, PRIORITY[f.category]))
    chosen: list[Finding] = []
    for finding in findings:
        if not chosen or finding.start >= chosen[-1].end:
            chosen.append(finding)
            continue
        last = chosen[-1]
        if finding.end <= last.end:
            if (finding.start, finding.end) == (last.start, last.end) and PRIORITY[
                finding.category
            ] < PRIORITY[last.category]:
                chosen[-1] = finding
            continue  # inside the one already chosen
        # Overlapping past its end: keep the longer one's category, cover both.
        winner = finding if finding.end - finding.start > last.end - last.start else last
        chosen[-1] = Finding(last.start, finding.end, winner.category, winner.reason, winner.key)
    return chosen


def _apply(text: str, chosen: list[Finding]) -> Redacted:
    numbers: dict[str, dict[str, int]] = {}
    pieces: list[str] = []
    replacements: list[Replacement] = []
    position = out = 0
    for start, end, category, reason, key in chosen:
        keys = numbers.setdefault(category, {})
        number = keys.setdefault(key, len(keys) + 1)
        placeholder = f"[{PLACEHOLDER_PREFIX[category]}-{number}]"
        pieces.append(text[position:start])
        pieces.append(placeholder)
        out += start - position
        replacements.append(
            _replacement(category, placeholder, start, end, text[start:end], reason, out)
        )
        out += len(placeholder)
        position = end
    pieces.append(text[position:])
    return Redacted("".join(pieces), tuple(replacements))


def _replacement(
    category: str, placeholder: str, start: int, end: int, original: str, reason: str, out: int
) -> Replacement:
    """A ``Replacement`` without the frozen dataclass's per-field ``object.__setattr__``
    (a dense text has thousands; this is most of the cost of building them)."""
    replacement = object.__new__(Replacement)
    replacement.__dict__.update(
        category=category,
        placeholder=placeholder,
        start=start,
        end=end,
        original=original,
        reason=reason,
        out_start=out,
        out_end=out + len(placeholder),
    )
    return replacement
