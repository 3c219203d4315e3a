"""The engineer queue, read without sorting every open case.

The score is tiered (see queue.rules): severity dominates, and inside one severity and one
package, cases still waiting for an engineer rank exactly by how soon they fall due, and cases
already being worked rank by age. So the top N of the whole queue lies within the top N of each
(severity, package, group) slice, which the indexes on ``cases`` serve directly; only those few
candidates are scored in Python, and only the page's cases are loaded in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import CompoundSelect, Integer, Select, bindparam, select, union_all
from sqlalchemy.orm import Session, defer, joinedload, lazyload

from critdesk.auth.models import User
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.case.rules import SEVERITIES
from critdesk.errors import Forbidden
from critdesk.organisation.models import Organisation
from critdesk.package.models import SupportPackage
from critdesk.package.service import calendar_of
from critdesk.queue.rules import QueueFacts, Score, score
from critdesk.sla import rules as sla


@dataclass(frozen=True, slots=True)
class QueueEntry:
    case: Case
    score: Score


_CANDIDATE_COLUMNS = (
    Case.id,
    Case.package_id,
    Case.queue_group,
    Case.severity,
    Case.reported_at,
    Case.sla_target_seconds,
    Case.sla_due_at,
    Case.queue_weight,
)


def _candidates(
    db: Session, severity: str, package_ids: list[int], need: int
) -> list[tuple[Any, ...]]:
    query = _candidates_query(severity, tuple(package_ids))
    return [tuple(row) for row in db.execute(query, {"need": need})]


@lru_cache(maxsize=256)
def _candidates_query(severity: str, package_ids: tuple[int, ...]) -> CompoundSelect[Any]:
    # Built once per severity and set of packages (building the statement took longer than
    # running it). How many each slice gives is written into the SQL when it runs, not bound:
    # PostgreSQL plans a bound LIMIT afresh on every execution (its generic plan assumes a
    # tenth of the table), and planning eight slices cost more than reading them.
    need = bindparam("need", type_=Integer, literal_execute=True)
    parts = []
    for package_id in package_ids:
        base = select(*_CANDIDATE_COLUMNS).where(
            Case.severity == severity, Case.package_id == package_id
        )
        parts.append(
            base.where(Case.queue_group == "waiting")
            .order_by(Case.sla_due_at, Case.id)
            .limit(need)
            .subquery()
            .select()
        )
        parts.append(
            base.where(Case.queue_group == "active")
            .order_by(Case.reported_at, Case.id)
            .limit(need)
            .subquery()
            .select()
        )
    return union_all(*parts)


# The score is a pure function of its facts, and most candidates share theirs (every case past
# due, or being worked, in one severity and package has the same facts), so each distinct score
# and its explanation text is built once.
_score_of = lru_cache(maxsize=4096)(score)


def _score(row: tuple[Any, ...], package: SupportPackage, now: datetime) -> Score:
    _id, _pkg, group, severity, reported_at, target, due_at, weight = row
    waiting = group == "waiting"
    if not waiting:
        used = 0.0
    elif now >= due_at:
        # Past due the share is only capped; measuring it would walk every day since reporting.
        used = 1.0
    else:
        used = min(
            sla.used_share(
                calendar_of(package), reported_at=reported_at, target_seconds=target, now=now
            ),
            0.999,
        )
    return _score_of(
        QueueFacts(
            severity=severity,
            waiting=waiting,
            used_share=used,
            package_name=package.name,
            package_weight=weight,
            target_seconds=target,
        )
    )


@lru_cache(maxsize=1)
def _page_query() -> Select[tuple[Case]]:
    """The page's cases with what a queue row shows (``summary_view``, the package's name).

    Their packages are already in the session (read above), so ``case.package`` comes from
    the identity map without a query; the long text and JSON columns no row shows (the
    description, severity reasons, outcomes, redirect, root cause) load only if read."""
    return select(Case).options(
        joinedload(Case.organisation).lazyload(Organisation.package),
        joinedload(Case.environment),
        joinedload(Case.owner).lazyload(User.organisation),
        lazyload(Case.package),
        lazyload(Case.reporter),
        defer(Case.description),
        defer(Case.severity_reasons),
        defer(Case.outcomes),
        defer(Case.redirect_message),
        defer(Case.redirect_details),
        defer(Case.root_cause),
    )


def queue(*, db: Session, viewer: User, now: datetime, limit: int, offset: int) -> list[QueueEntry]:
    if viewer.role not in cases.HANDLER_ROLES:
        raise Forbidden("engineers_only", "the queue is for engineers and leads")
    packages = {p.id: p for p in db.scalars(select(SupportPackage))}
    need = offset + limit
    ranked: list[tuple[float, datetime, int, Score]] = []
    for severity in SEVERITIES:
        rows = _candidates(db, severity, sorted(packages), need)
        scored = [(_score(row, packages[row[1]], now), row) for row in rows]
        scored.sort(key=lambda item: (-item[0].value, item[1][4], item[1][0]))
        ranked.extend((s.value, row[4], row[0], s) for s, row in scored)
        if len(ranked) >= need:
            break
    page = ranked[offset:need]
    loaded = {
        case.id: case
        for case in db.scalars(_page_query().where(Case.id.in_([p[2] for p in page]))).unique()
    }
    return [QueueEntry(loaded[case_id], s) for _v, _at, case_id, s in page if case_id in loaded]
