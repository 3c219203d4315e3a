"""Scoring template mining against ground truth: ``critdesk eval loghub DIR``.

A system's folder ``S/`` holds ``S_2k.log`` (raw lines, headers included) and
``S_2k.log_structured_corrected.csv`` (``LineId`` and ``EventTemplate`` per line). The raw
lines go through exactly what ``critdesk logs templates`` runs (headers detected, not given);
the metrics are those of Loghub (Zhu et al., ICSE-SEIP 2019; Khan et al., ICSE 2022):

- **GA**, grouping accuracy: the share of lines whose predicted group holds exactly the
  lines of their true group;
- **PA**, parsing accuracy: the share of lines whose predicted template equals the true one,
  both compared after collapsing whitespace and runs of consecutive ``<*>`` (``<*> <*>``,
  ``<*><*>``) into one.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from critdesk.logs.templates import template_stream

_SPACES = re.compile(r"\s+")
_WILDCARD_RUNS = re.compile(r"<\*>(?:\s*<\*>)+")


@dataclass(frozen=True)
class Score:
    ga: float
    pa: float
    lines: int


def normalise_template(template: str) -> str:
    template = _SPACES.sub(" ", template.strip())
    return _WILDCARD_RUNS.sub("<*>", template)


def grouping_accuracy(predicted: Sequence[object], truth: Sequence[str]) -> float:
    """Share of lines whose predicted group is exactly their true group."""
    if not truth:
        return 0.0
    true_groups: dict[str, set[int]] = defaultdict(set)
    predicted_groups: dict[object, set[int]] = defaultdict(set)
    for i, (p, t) in enumerate(zip(predicted, truth, strict=True)):
        true_groups[t].add(i)
        predicted_groups[p].add(i)
    correct = 0
    for members in predicted_groups.values():
        first = truth[next(iter(members))]
        if true_groups[first] == members:
            correct += len(members)
    return correct / len(truth)


def parsing_accuracy(predicted: Sequence[str], truth: Sequence[str]) -> float:
    if not truth:
        return 0.0
    normalised: dict[str, str] = {}

    def norm(template: str) -> str:
        found = normalised.get(template)
        if found is None:
            found = normalised[template] = normalise_template(template)
        return found

    correct = sum(1 for p, t in zip(predicted, truth, strict=True) if norm(p) == norm(t))
    return correct / len(truth)


def read_truth(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: int(row["LineId"]))
    return [row["EventTemplate"] for row in rows]


def systems(root: Path) -> list[str]:
    """The systems under ``root``: folders ``S`` holding ``S_2k.log`` and its truth."""
    return sorted(
        d.name
        for d in root.iterdir()
        if d.is_dir()
        and (d / f"{d.name}_2k.log").is_file()
        and (d / f"{d.name}_2k.log_structured_corrected.csv").is_file()
    )


def score_system(folder: Path) -> Score:
    name = folder.name
    truth = read_truth(folder / f"{name}_2k.log_structured_corrected.csv")
    with (folder / f"{name}_2k.log").open("rb") as stream:
        rows = list(template_stream(stream).rows())
    if len(rows) != len(truth):
        raise ValueError(f"{name}: {len(rows)} lines but {len(truth)} ground-truth rows")
    ids = [template_id for _, template_id, _ in rows]
    templates = [template for _, _, template in rows]
    return Score(
        ga=grouping_accuracy(ids, truth), pa=parsing_accuracy(templates, truth), lines=len(truth)
    )


def score_all(root: Path) -> dict[str, Score]:
    return {name: score_system(root / name) for name in systems(root)}


def mean(scores: dict[str, Score]) -> Score:
    n = len(scores) or 1
    return Score(
        ga=sum(s.ga for s in scores.values()) / n,
        pa=sum(s.pa for s in scores.values()) / n,
        lines=sum(s.lines for s in scores.values()),
    )


def as_json(scores: dict[str, Score]) -> dict[str, object]:
    average = mean(scores)
    return {
        "systems": {
            name: {"ga": round(s.ga, 4), "pa": round(s.pa, 4)} for name, s in scores.items()
        },
        "mean": {"ga": round(average.ga, 4), "pa": round(average.pa, 4)},
    }


def group_sizes(ids: Sequence[object]) -> Counter[object]:
    return Counter(ids)
