"""Measuring the redactor on a labelled corpus (``critdesk eval redaction``).

The corpus is JSON Lines, one item a line::

    {"id": "mail-001", "text": "...",
     "known": {"organisations": [...], "contacts": [...], "emails": [...],
               "environments": [...], "hostnames": [...], "keep": [...]},
     "spans": [["email", "alice@northwind.example"], ["secret", "S3cr3t!"], ...],
     "extra": [...], "allow": [...]}

A label ``[category, original]`` marks every occurrence of ``original`` in the text that is not
part of a longer word or number (or, if there is none, every occurrence: ``-pSECRET``);
``{"category", "start", "end"}`` marks one span exactly.

Matching, span by span:

* a labelled span is **found** when every one of its characters lies inside some replacement
  (of any category: a password inside a replaced URL is gone all the same); recall per
  category is found / labelled;
* a replacement is a **false positive** when it overlaps no labelled span; precision is
  (replacements - false positives) / replacements, over the whole corpus;
* the category **agreement** (informational) is the share of found spans covered by a
  replacement of their own category.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from critdesk.redaction.rules import KnownTerms, Redacted, redact
from critdesk.redaction.spans import CATEGORIES

# Categories held to recall >= 0.99, and the precision target (issue 7).
STRICT_CATEGORIES = ("secret", "email", "ip", "organisation", "contact")
RECALL_TARGET = 0.99
PRECISION_TARGET = 0.95


class CorpusError(ValueError):
    """A corpus line that cannot be read or labels something absent from its text."""


@dataclass(frozen=True)
class Label:
    category: str
    start: int
    end: int


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    known: KnownTerms
    labels: tuple[Label, ...]
    extra: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()


@dataclass
class Scores:
    items: int = 0
    characters: int = 0
    labelled: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    agreeing: Counter[str] = field(default_factory=Counter)
    replacements: int = 0
    false_positives: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)
    spurious: list[dict[str, Any]] = field(default_factory=list)

    def recall(self, category: str) -> float | None:
        total = self.labelled[category]
        return self.found[category] / total if total else None

    @property
    def overall_recall(self) -> float:
        total = sum(self.labelled.values())
        return sum(self.found.values()) / total if total else 1.0

    @property
    def precision(self) -> float:
        if not self.replacements:
            return 1.0
        return (self.replacements - self.false_positives) / self.replacements

    def failures(self) -> list[str]:
        """The targets missed, in words (empty when all are met)."""
        failed = []
        for category in STRICT_CATEGORIES:
            recall = self.recall(category)
            if recall is None:
                failed.append(f"no labelled {category} spans")
            elif recall < RECALL_TARGET:
                failed.append(f"{category} recall {recall:.3f} < {RECALL_TARGET}")
        if self.precision < PRECISION_TARGET:
            failed.append(f"precision {self.precision:.3f} < {PRECISION_TARGET}")
        return failed

    def as_json(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "characters": self.characters,
            "categories": {
                category: {
                    "labelled": self.labelled[category],
                    "found": self.found[category],
                    "recall": _round(self.recall(category)),
                    "agreement": _round(
                        self.agreeing[category] / self.found[category]
                        if self.found[category]
                        else None
                    ),
                }
                for category in CATEGORIES
                if self.labelled[category]
            },
            "recall": round(self.overall_recall, 4),
            "replacements": self.replacements,
            "false_positives": self.false_positives,
            "precision": round(self.precision, 4),
            "targets_met": not self.failures(),
            "failures": self.failures(),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def corpus_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.jsonl")) if path.is_dir() else [path]


def read_corpus(path: Path) -> list[Item]:
    items = []
    for file in corpus_files(path):
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    items.append(parse_item(json.loads(line)))
                except (ValueError, KeyError, TypeError) as error:
                    raise CorpusError(f"{file.name}:{number}: {error}") from error
    return items


def parse_item(raw: dict[str, Any]) -> Item:
    text = raw["text"]
    known = raw.get("known", {})
    labels: list[Label] = []
    for span in raw.get("spans", []):
        if isinstance(span, dict):
            labels.append(Label(_category(span["category"]), span["start"], span["end"]))
            continue
        category, original = span
        found = list(occurrences(text, original)) or list(occurrences(text, original, loose=True))
        if not found:
            raise CorpusError(f"{raw['id']}: labelled {original!r} is not in the text")
        labels.extend(Label(_category(category), start, end) for start, end in found)
    return Item(
        id=raw["id"],
        text=text,
        known=KnownTerms(**{key: tuple(values) for key, values in known.items()}),
        labels=tuple(labels),
        extra=tuple(raw.get("extra", ())),
        allow=tuple(raw.get("allow", ())),
    )


def _category(name: str) -> str:
    if name not in CATEGORIES:
        raise CorpusError(f"unknown category {name!r}")
    return name


def occurrences(text: str, original: str, *, loose: bool = False) -> Iterable[tuple[int, int]]:
    """Every place ``original`` stands on its own (not inside a longer word or number); with
    ``loose``, every place at all (for a value glued to its flag, as in ``-pSECRET``)."""
    start = text.find(original)
    while start != -1:
        end = start + len(original)
        before_ok = start == 0 or not (text[start - 1].isalnum() and original[0].isalnum())
        after_ok = end == len(text) or not (text[end].isalnum() and original[-1].isalnum())
        if loose or (before_ok and after_ok):
            yield start, end
        start = text.find(original, start + 1)


def evaluate(items: Iterable[Item], *, keep_details: bool = False) -> Scores:
    scores = Scores()
    for item in items:
        result = redact(item.text, item.known, extra=item.extra, allow=item.allow)
        _score(item, result, scores, keep_details)
    return scores


def _score(item: Item, result: Redacted, scores: Scores, keep_details: bool) -> None:
    scores.items += 1
    scores.characters += len(item.text)
    covered = [False] * (len(item.text) + 1)
    category_at: dict[int, str] = {}
    for replacement in result.replacements:
        for index in range(replacement.start, replacement.end):
            covered[index] = True
            category_at[index] = replacement.category
    for label in item.labels:
        scores.labelled[label.category] += 1
        if all(covered[label.start : label.end]):
            scores.found[label.category] += 1
            if all(category_at[i] == label.category for i in range(label.start, label.end)):
                scores.agreeing[label.category] += 1
        elif keep_details:
            scores.misses.append(
                {
                    "id": item.id,
                    "category": label.category,
                    "text": item.text[label.start : label.end],
                }
            )
    for replacement in result.replacements:
        scores.replacements += 1
        if not any(
            label.start < replacement.end and replacement.start < label.end for label in item.labels
        ):
            scores.false_positives += 1
            if keep_details:
                scores.spurious.append(
                    {
                        "id": item.id,
                        "category": replacement.category,
                        "text": replacement.original,
                        "reason": replacement.reason,
                    }
                )
