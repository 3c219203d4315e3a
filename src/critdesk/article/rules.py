"""Pure rules for articles: the review state machine, the draft a case suggests, and how an
article is redacted — in one pass over all its sections, so that ``[EMAIL-1]`` is the same
person in the symptoms and in the resolution — with a last guard that no organisation name or
e-mail address ever survives into what is published.

No database, no clock: the redactor (``critdesk.redaction.rules.redact``) is pure too, and
the terms it must know come in as a ``KnownTerms`` value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from critdesk.redaction.rules import KnownTerms, Redacted, Replacement, redact

STATES = ("draft", "in_review", "approved", "published", "withdrawn")
# action → the states it may start from, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft", "withdrawn"}), "in_review"),
    "approve": (frozenset({"in_review"}), "approved"),
    "reject": (frozenset({"in_review", "approved"}), "draft"),
    "publish": (frozenset({"approved"}), "published"),
    "unpublish": (frozenset({"published"}), "withdrawn"),
}
# Editing keeps a draft a draft and a submission under review, but an approval was given to
# the text as it was: a changed approved article needs a review again.
AFTER_EDIT = {
    "draft": "draft",
    "in_review": "in_review",
    "approved": "in_review",
    "withdrawn": "draft",
}

SECTIONS = ("title", "symptoms", "affected_versions", "root_cause", "resolution")
SECTION_LABELS = {
    "title": "Title",
    "symptoms": "Symptoms",
    "affected_versions": "Affected versions",
    "root_cause": "Root cause",
    "resolution": "Resolution and workaround",
}
ROOT_CAUSE_LABELS = {
    "product_defect": "Product defect",
    "configuration": "Configuration",
    "customer_code": "Customer code",
    "third_party": "Third party",
    "infrastructure": "Infrastructure",
    "unknown": "Unknown",
}
OUTCOME_LABELS = {
    "resolution_advised": "Resolution",
    "workaround_provided": "Workaround",
    "bug_reported": "Bug report",
}
# Sections are joined by a blank line for the one redaction pass; replacements that would
# straddle two sections (none of the redactor's categories spans a blank line) make the
# article fall back to redacting each section on its own — still complete, less consistent.
SEPARATOR = "\n\n"
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
WORD = re.compile(r"[\w.@+-]")
# Looser than an e-mail address: anything "who@where" — what the guard insists be replaced whole.
ADDRESS_LIKE = re.compile(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)*")


class ArticleTransitionRefused(ValueError):
    def __init__(self, action: str, state: str, allowed: Iterable[str]) -> None:
        names = ", ".join(sorted(allowed)) or "no state"
        super().__init__(f"an article cannot be {_PAST[action]} while {state}; only from {names}")
        self.allowed = sorted(allowed)


_PAST = {
    "submit": "submitted for review",
    "approve": "approved",
    "reject": "sent back",
    "publish": "published",
    "unpublish": "withdrawn",
    "edit": "edited",
}


def next_state(action: str, state: str) -> str:
    """Where ``action`` takes an article in ``state``; refused with the states it allows."""
    if action == "edit":
        if state not in AFTER_EDIT:
            raise ArticleTransitionRefused(action, state, AFTER_EDIT)
        return AFTER_EDIT[state]
    sources, target = TRANSITIONS[action]
    if state not in sources:
        raise ArticleTransitionRefused(action, state, sources)
    return target


def may_approve(*, reviewer_id: int, author_id: int, last_editor_id: int) -> bool:
    """A second person approves: neither the author nor whoever last changed the text."""
    return reviewer_id not in (author_id, last_editor_id)


# --- the draft a case suggests ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArticleText:
    title: str
    symptoms: str
    affected_versions: tuple[str, ...]
    root_cause_category: str | None
    root_cause: str
    resolution: str


def draft_from_case(
    *,
    title: str,
    description: str,
    product_version: str | None,
    bug_versions: Sequence[Sequence[str]],
    root_cause: Mapping[str, Any] | None,
    outcomes: Sequence[Mapping[str, Any]],
) -> ArticleText:
    """The case's own words as a first draft: the author then anonymises and completes it.

    Affected versions: the environment's product version, then those of linked public bugs.
    Resolution: every outcome, labelled (advice, workaround, bug report), in the case's order.
    """
    versions = [product_version] if product_version else []
    for listed in bug_versions:
        versions.extend(str(v) for v in listed)
    root = root_cause or {}
    category = root.get("category")
    resolution = "\n\n".join(
        f"{OUTCOME_LABELS.get(str(o.get('type')), 'Outcome')}: {str(o.get('text', '')).strip()}"
        for o in outcomes
        if str(o.get("text", "")).strip()
    )
    return ArticleText(
        title=title.strip(),
        symptoms=description.strip(),
        affected_versions=tuple(dict.fromkeys(v.strip() for v in versions if v.strip())),
        root_cause_category=category if category in ROOT_CAUSE_LABELS else None,
        root_cause=str(root.get("summary") or "").strip(),
        resolution=resolution,
    )


def section_texts(text: ArticleText) -> dict[str, str]:
    return {
        "title": text.title,
        "symptoms": text.symptoms,
        "affected_versions": ", ".join(text.affected_versions),
        "root_cause": text.root_cause,
        "resolution": text.resolution,
    }


# --- redaction ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mark:
    """One replacement within one section: ``start``/``end`` in its redacted text,
    ``source_start``/``source_end`` in the author's."""

    category: str
    placeholder: str
    reason: str
    original: str
    start: int
    end: int
    source_start: int
    source_end: int


@dataclass(frozen=True, slots=True)
class RedactedSection:
    name: str
    text: str
    marks: tuple[Mark, ...]


@dataclass(frozen=True, slots=True)
class RedactedArticle:
    sections: tuple[RedactedSection, ...]
    # Terms the guard had to add because the redactor let them through (see ``survivors``).
    forced: tuple[str, ...] = ()
    one_pass: bool = True

    def text(self, name: str) -> str:
        return next(s.text for s in self.sections if s.name == name)

    def counts(self) -> dict[str, int]:
        """Replacements per category — what an audit record may hold (never the originals)."""
        counts: dict[str, int] = {}
        for section in self.sections:
            for mark in section.marks:
                counts[mark.category] = counts.get(mark.category, 0) + 1
        return dict(sorted(counts.items()))


class RedactionIncomplete(ValueError):
    """An organisation name or e-mail address survived even the forced second pass."""

    def __init__(self, count: int) -> None:
        super().__init__(
            f"{count} organisation name(s) or e-mail address(es) would survive redaction; "
            "rephrase the text around them or add them to the terms to redact"
        )
        self.count = count


def redact_article(
    sections: Mapping[str, str],
    known: KnownTerms,
    *,
    extra: Sequence[str] = (),
    allow: Sequence[str] = (),
) -> RedactedArticle:
    """Every section redacted, with the guard: organisation names and e-mail addresses that
    survive the redactor are forced out in a second pass, and if any still survives the
    article is refused (``RedactionIncomplete``) — it is never published with one."""
    result = _redact_once(sections, known, extra, allow)
    left = _survivors_of(result, known) + _partly_redacted_addresses(sections, result)
    if not left:
        return result
    forced = tuple(dict.fromkeys(left))
    result = _redact_once(sections, known, (*extra, *forced), allow)
    still = _survivors_of(result, known) + _partly_redacted_addresses(sections, result)
    if still:
        raise RedactionIncomplete(len(still))
    return RedactedArticle(result.sections, forced, result.one_pass)


def _redact_once(
    sections: Mapping[str, str], known: KnownTerms, extra: Sequence[str], allow: Sequence[str]
) -> RedactedArticle:
    names = [name for name in SECTIONS if name in sections]
    document, spans, at = [], {}, 0
    for name in names:
        value = sections[name]
        spans[name] = (at, at + len(value))
        document.append(value)
        at += len(value) + len(SEPARATOR)
    whole = redact(SEPARATOR.join(document), known, extra=extra, allow=allow)
    split = _split(whole, spans)
    if split is not None:
        return RedactedArticle(split, one_pass=True)
    alone = []
    for name in names:
        own = redact(sections[name], known, extra=extra, allow=allow)
        marks = tuple(_mark(r, 0, 0) for r in own.replacements)
        alone.append(RedactedSection(name, own.text, marks))
    return RedactedArticle(tuple(alone), one_pass=False)


def _split(
    whole: Redacted, spans: Mapping[str, tuple[int, int]]
) -> tuple[RedactedSection, ...] | None:
    """The sections of one redacted document, or None when a replacement straddles two."""
    replacements = sorted(whole.replacements, key=lambda r: r.start)
    sections = []
    for name, (start, end) in spans.items():
        out_start, out_end = _out(replacements, start), _out(replacements, end)
        if out_start is None or out_end is None:
            return None
        inside = [r for r in replacements if start <= r.start and r.end <= end]
        text = whole.text[out_start:out_end]
        marks = tuple(sorted((_mark(r, out_start, start) for r in inside), key=lambda m: m.start))
        sections.append(RedactedSection(name, text, marks))
    return tuple(sections)


def _out(replacements: Sequence[Replacement], position: int) -> int | None:
    """Where an original position lands in the redacted text; None inside a replacement."""
    before = None
    for replacement in replacements:
        if replacement.start < position < replacement.end:
            return None
        if replacement.end <= position:
            before = replacement
        else:
            break
    if before is None:
        return position
    return before.out_end + (position - before.end)


def _mark(replacement: Replacement, offset: int, source_offset: int) -> Mark:
    return Mark(
        category=replacement.category,
        placeholder=replacement.placeholder,
        reason=replacement.reason,
        original=replacement.original,
        start=replacement.out_start - offset,
        end=replacement.out_end - offset,
        source_start=replacement.start - source_offset,
        source_end=replacement.end - source_offset,
    )


def _partly_redacted_addresses(sections: Mapping[str, str], result: RedactedArticle) -> list[str]:
    """Anything shaped like an address in the author's text (``who@where``, however odd its
    ending) that no single replacement covers whole: "alice@northwind.example10.4.2" is not
    an e-mail address to the redactor, but leaving "alice@[ORG-1]" would still name her."""
    found = []
    for section in result.sections:
        original = sections.get(section.name, "")
        for match in ADDRESS_LIKE.finditer(original):
            start, end = match.span()
            if not any(m.source_start <= start and end <= m.source_end for m in section.marks):
                found.append(match.group(0).rstrip(".-"))
    return found


def _survivors_of(result: RedactedArticle, known: KnownTerms) -> list[str]:
    found: list[str] = []
    for section in result.sections:
        found.extend(survivors(section.text, known.organisations, known.emails))
    return found


def survivors(text: str, organisations: Iterable[str], emails: Iterable[str]) -> list[str]:
    """Organisation names (any case) and e-mail addresses (known or not) still in ``text``,
    each widened to the whole word it sits in, as written — the terms to force out."""
    found = []
    folded = text.casefold()
    needles = [n.casefold() for n in (*organisations, *emails) if n and n.strip()]
    for needle in needles:
        start = folded.find(needle)
        while start != -1:
            found.append(_widened(text, start, start + len(needle)))
            start = folded.find(needle, start + 1)
    found.extend(match.group(0) for match in EMAIL.finditer(text))
    return list(dict.fromkeys(found))


def _widened(text: str, start: int, end: int) -> str:
    while start > 0 and WORD.match(text[start - 1]):
        start -= 1
    while end < len(text) and WORD.match(text[end]):
        end += 1
    return text[start:end].strip(".")


def refused_allowances(
    allow: Iterable[str], organisations: Iterable[str], emails: Iterable[str]
) -> list[str]:
    """Originals an author may not keep: anything holding an organisation name or an e-mail
    address. Those are always redacted (DESIGN: the redactor always replaces every
    organisation the desk knows)."""
    names = [n.casefold() for n in organisations if n and n.strip()]
    addresses = [e.casefold() for e in emails if e and e.strip()]
    refused = []
    for term in allow:
        folded = term.casefold()
        if (
            EMAIL.search(term)
            or any(name in folded for name in names)
            or any(address in folded for address in addresses)
        ):
            refused.append(term)
    return refused


# --- what is published -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Publication:
    title: str
    sections: dict[str, str] = field(default_factory=dict)
    body: str = ""


def publication(
    redacted: RedactedArticle,
    *,
    root_cause_category: str | None,
    bug: tuple[str, str] | None,
) -> Publication:
    """The published article: redacted sections, and the Markdown body the forum receives.

    ``bug`` is a public bug's (key, url): a reference, not text of the case.
    """
    sections = {s.name: s.text for s in redacted.sections}
    category = ROOT_CAUSE_LABELS.get(root_cause_category or "")
    parts = []
    for name in ("symptoms", "affected_versions", "root_cause", "resolution"):
        text = sections.get(name, "").strip()
        if name == "root_cause" and category:
            text = f"{category}: {text}" if text else category
        if text:
            parts.append(f"## {SECTION_LABELS[name]}\n\n{text}")
    if bug is not None:
        parts.append(f"## Known bug\n\n[{bug[0]}]({bug[1]})")
    return Publication(
        title=sections.get("title", "").strip(), sections=sections, body="\n\n".join(parts)
    )


# --- the preview, as highlighted pieces ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    mark: Mark | None = None


def segments(section: RedactedSection) -> list[Segment]:
    """The section's redacted text cut into plain pieces and replacements, in order."""
    pieces, at = [], 0
    for mark in section.marks:
        if mark.start > at:
            pieces.append(Segment(section.text[at : mark.start]))
        pieces.append(Segment(section.text[mark.start : mark.end], mark))
        at = max(at, mark.end)
    if at < len(section.text):
        pieces.append(Segment(section.text[at:]))
    return pieces
