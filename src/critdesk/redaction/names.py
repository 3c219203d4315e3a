"""Known names (organisations, contacts, environments, hosts, extra terms) matched at once.

Every term goes into one character trie compiled to a single regular expression, so a text is
scanned once however many organisations the desk knows: at each position the regex follows
one branch per character instead of trying every name in turn. Matching is case-insensitive
(unless asked otherwise), whitespace inside a name matches any run of whitespace (names broken
across lines), and the longest name wins ("Northwind Insurance" before "Northwind"). Word
boundaries are checked around each hit, so "Contoso" is not found inside "Contosoville".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from critdesk.redaction.spans import Finding

_SPACE = " "  # the trie symbol for "one or more whitespace characters"
_END = ""  # the trie key marking that a term ends here
_WS = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Term:
    category: str
    key: str  # the canonical entity: variants of one organisation or person share it
    reason: str


def normalise(text: str) -> str:
    return _WS.sub(" ", text.strip()).lower()


def _insert(trie: dict[str, dict], term: str) -> None:  # type: ignore[type-arg]
    node = trie
    for char in term:
        node = node.setdefault(char, {})
    node[_END] = {}


def _emit(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
    """The regex for a trie node: the longest alternatives first, then "the term ends here"."""
    ends = _END in node
    branches = []
    for char in sorted(c for c in node if c != _END):
        head = r"\s+" if char == _SPACE else re.escape(char)
        branches.append(head + _emit(node[char]))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if ends else body


def trie_pattern(words: list[str]) -> str:
    """One regular expression matching any of ``words`` (literals, spaces as runs of
    whitespace), longest first, built as a trie so each position costs one branch a char."""
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        _insert(trie, word)
    return "(?:" + _emit(trie) + ")"


class NameMatcher:
    """Finds every occurrence of a fixed set of terms; build once per set, reuse."""

    def __init__(self, terms: dict[str, Term], *, case_sensitive: bool = False) -> None:
        self.terms = terms
        self.case_sensitive = case_sensitive
        trie: dict[str, dict] = {}  # type: ignore[type-arg]
        for text in terms:
            _insert(trie, text)
        # The right word boundary is part of the pattern, so that a longer name failing it
        # backtracks to a shorter one. The left one is checked on each hit while the names
        # start with few different characters (the engine then skips ahead to those); with
        # many (thousands of organisations), it leads the pattern, rejecting positions inside
        # words before any branch is tried. A case-insensitive matcher runs on the lower-cased
        # text (faster than re.IGNORECASE).
        self.left_in_pattern = len({term[:1] for term in terms}) > 20
        left = r"(?<!\w)" if self.left_in_pattern else ""
        self.pattern = re.compile(left + "(?:" + _emit(trie) + r")(?!\w)") if terms else None

    def find(self, text: str, lower: str) -> Iterator[Finding]:
        """Hits in ``text``; ``lower`` is ``spans.lowered(text)``."""
        if self.pattern is None:
            return
        for match in self.pattern.finditer(text if self.case_sensitive else lower):
            start, end = match.span()
            if start == end or (
                not self.left_in_pattern and start > 0 and _is_word(text[start - 1])
            ):
                continue
            lookup = match.group()
            if "  " in lookup or "\n" in lookup or "\t" in lookup or "\r" in lookup:
                lookup = _WS.sub(" ", lookup)
            term = self.terms.get(lookup)
            if term is not None:
                yield Finding(start, end, term.category, term.reason, term.key)


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"
