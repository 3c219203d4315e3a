"""Duplicate bug report detection, scored under the standard protocol.

Reads a GitBugs-format JSON Lines file (one report per line: ``id``, ``title``,
``description``, ``created``, ``dup_of``, ``dup_group``…) and measures the product's own
``SimilarityEngine`` on it (see ``shared/data/dbrd/README.md``):

- **queries**: each report with a non-empty ``dup_of`` whose ``dup_group`` holds at least one
  report created earlier;
- **candidates**: every report created before the query (the engine's ``created_before``
  filter over one index of the whole file — no index per query);
- a **hit at k**: any report of the query's ``dup_group`` among the top k;
- **RR@k** (recall rate): the share of queries with a hit in the top k; **MRR**: the mean of
  1 / rank of the first hit, counting 0 when none is in the top ``MRR_DEPTH``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from critdesk.search.engine import Doc, SimilarityEngine

CUTOFFS = (1, 5, 10)
MRR_DEPTH = 100


@dataclass(frozen=True)
class Report:
    id: str
    title: str
    description: str
    created: datetime
    dup_of: tuple[str, ...]
    dup_group: str | None


@dataclass(frozen=True)
class Scores:
    queries: int
    recall: dict[int, float]  # k → RR@k
    mrr: float

    def as_json(self) -> dict[str, float | int]:
        figures: dict[str, float | int] = {"queries": self.queries}
        figures.update({f"rr@{k}": round(v, 4) for k, v in self.recall.items()})
        figures["mrr"] = round(self.mrr, 4)
        return figures


def read_reports(path: Path) -> list[Report]:
    with path.open(encoding="utf-8") as lines:
        return [_report(json.loads(line)) for line in lines if line.strip()]


def _report(row: dict[str, object]) -> Report:
    created = datetime.fromisoformat(str(row["created"]).replace("Z", "+00:00"))
    group = row.get("dup_group")
    return Report(
        id=str(row["id"]),
        title=str(row.get("title") or ""),
        description=str(row.get("description") or ""),
        created=created if created.tzinfo else created.replace(tzinfo=UTC),
        dup_of=tuple(str(i) for i in (row.get("dup_of") or ())),  # type: ignore[attr-defined]
        dup_group=None if group is None else str(group),
    )


def report_doc(report: Report) -> Doc:
    return Doc(
        id=report.id,
        kind="bug",
        title=report.title,
        text=report.description,
        signatures=(),
        public=True,
        created_at=report.created,
    )


def queries_of(reports: Iterable[Report]) -> Iterator[tuple[Report, set[str]]]:
    """Each query with the ids of its group's earlier reports (the right answers)."""
    reports = list(reports)
    groups: dict[str, list[Report]] = defaultdict(list)
    for report in reports:
        if report.dup_group is not None:
            groups[report.dup_group].append(report)
    for report in reports:
        if not report.dup_of or report.dup_group is None:
            continue
        earlier = {r.id for r in groups[report.dup_group] if r.created < report.created}
        if earlier:
            yield report, earlier


def evaluate(
    reports: list[Report],
    engine: SimilarityEngine,
    *,
    on_query: Callable[[], None] | None = None,
) -> Scores:
    with engine.bulk():
        engine.add(report_doc(r) for r in reports)
    engine.flush()
    hits = dict.fromkeys(CUTOFFS, 0)
    reciprocal = 0.0
    count = 0
    for query, answers in queries_of(reports):
        results = engine.search(
            f"{query.title}\n{query.description}",
            limit=MRR_DEPTH,
            created_before=query.created,
            exclude={query.id},
        )
        rank = next((i for i, hit in enumerate(results, 1) if hit.id in answers), None)
        count += 1
        if rank is not None:
            reciprocal += 1 / rank
            for k in CUTOFFS:
                hits[k] += rank <= k
        if on_query is not None:
            on_query()
    if not count:
        return Scores(queries=0, recall=dict.fromkeys(CUTOFFS, 0.0), mrr=0.0)
    return Scores(
        queries=count, recall={k: hits[k] / count for k in CUTOFFS}, mrr=reciprocal / count
    )
