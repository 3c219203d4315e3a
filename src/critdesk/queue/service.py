"""The engineer queue, read without sorting every open case.

The score is tiered (see queue.rules): severity dominates, and inside one severity and one
package, cases still waiting for an engineer rank exactly by how soon they fall due, and cases
already being worked rank by age (a package's open cases share its current weight:
package.service keeps them so). So the top N of the whole queue lies within the top N of each
(severity, package, group) slice, which the indexes on ``cases`` serve directly. And as each
slice is read best first, its first case bounds the score of the rest: a slice whose first case
cannot reach the page is not read at all. Only those few candidates are scored in Python, and
only the page's cases are loaded in full.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import CompoundSelect, Integer, Select, bindparam, select, union_all
from sqlalchemy.orm import Session, aliased

from critdesk.auth.models import User
from critdesk.case import service as cases
from critdesk.case.models import Case, format_ref
from critdesk.case.rules import SEVERITIES
from critdesk.errors import Forbidden
from critdesk.organisation.models import Environment, Organisation
from critdesk.package.models import SupportPackage
from critdesk.package.service import calendar_of
from critdesk.queue.rules import QueueFacts, Score, score
from critdesk.sla import rules as sla


@dataclass(frozen=True, slots=True)
class QueueEntry:
    case: QueueCase
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


# A slice of one severity's queue: (package id, group), read in its own order.
Slice = tuple[int, str]
GROUPS = ("waiting", "active")


def _candidates(
    db: Session, severity: str, full: tuple[Slice, ...], heads: tuple[Slice, ...], need: int
) -> list[tuple[Any, ...]]:
    """The first ``need`` cases of each slice in ``full`` and the first case of each slice in
    ``heads``, as plain rows (``_CANDIDATE_COLUMNS``)."""
    query = _candidates_query(severity, full, heads)
    # Through the connection: plain rows, none of the ORM's result machinery, fetched at once
    # (iterating a result fetches row by row).
    return list(db.connection().execute(query, {"need": need}).all())


@lru_cache(maxsize=256)
def _candidates_query(
    severity: str, full: tuple[Slice, ...], heads: tuple[Slice, ...]
) -> CompoundSelect[Any]:
    # Built once per severity and set of slices (building the statement took longer than
    # running it). How many each slice gives is written into the SQL when it runs, not bound:
    # PostgreSQL plans a bound LIMIT afresh on every execution (its generic plan assumes a
    # tenth of the table), and planning eight slices cost more than reading them.
    need = bindparam("need", type_=Integer, literal_execute=True)
    parts = []
    for (package_id, group), limit in [(s, need) for s in full] + [(s, 1) for s in heads]:
        base = select(*_CANDIDATE_COLUMNS).where(
            Case.severity == severity, Case.package_id == package_id, Case.queue_group == group
        )
        if group == "waiting":
            base = base.order_by(Case.sla_due_at, Case.id)
        else:
            base = base.order_by(Case.reported_at, Case.id)
        parts.append(base.limit(limit).subquery().select())
    return union_all(*parts)


# The score is a pure function of its facts, and most candidates share theirs (every case past
# due, or being worked, in one severity and package has the same facts), so each distinct score
# and its explanation text is built once, keyed by the facts as a plain tuple (cheaper to hash
# and compare than the dataclass).
@lru_cache(maxsize=4096)
def _score_of(
    severity: str,
    waiting: bool,
    used_share: float,
    package_name: str,
    package_weight: float,
    target_seconds: int,
) -> Score:
    return score(
        QueueFacts(
            severity=severity,
            waiting=waiting,
            used_share=used_share,
            package_name=package_name,
            package_weight=package_weight,
            target_seconds=target_seconds,
        )
    )


# A scored candidate: (score value, reported at, case id, score); best first when sorted by
# (-value, reported at, id).
Ranked = tuple[float, datetime, int, Score]


def _ranked(row: tuple[Any, ...], package: SupportPackage, now: datetime) -> Ranked:
    """A candidate row (``_CANDIDATE_COLUMNS``) scored, as the queue sorts it."""
    case_id, _pkg, group, severity, reported_at, target, due_at, weight = row
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
    score = _score_of(severity, waiting, used, package.name, weight, target)
    return (score.value, reported_at, case_id, score)


@dataclass(frozen=True, slots=True)
class Named:
    name: str


@dataclass(frozen=True, slots=True)
class EnvironmentFacts:
    id: int
    name: str
    type: str
    production: bool


@dataclass(frozen=True, slots=True)
class PersonFacts:
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class QueueCase:
    """What a queue row shows of a case (``case.schemas.summary_view`` and the package's
    name), read as plain columns: building, tracking and eager-joining fifty ORM objects cost
    more than the rest of a queue page did."""

    id: int
    title: str
    state: str
    severity: str
    channel: str
    qualification: str
    qualification_reasons: list[Any]
    suggested_redirect: str | None
    reported_at: datetime
    updated_at: datetime
    state_changed_at: datetime | None
    sla_target_seconds: int
    sla_clock_starts_at: datetime
    sla_warn_at: datetime
    sla_due_at: datetime
    sla_met_at: datetime | None
    sla_business_seconds_taken: int | None
    organisation: Named
    environment: EnvironmentFacts
    owner: PersonFacts | None
    package: Named

    @property
    def ref(self) -> str:
        return format_ref(self.id)


_Owner = aliased(User)


# QueueCase's own fields are the cases table's columns of the same names.
_JOINED = ("organisation", "environment", "owner", "package")
_FROM_CASE = tuple(f.name for f in fields(QueueCase) if f.name not in _JOINED)


@lru_cache(maxsize=1)
def _page_query() -> Select[Any]:
    return (
        select(
            *(getattr(Case, name) for name in _FROM_CASE),
            Case.package_id,
            Organisation.name,
            Environment.id,
            Environment.name,
            Environment.type,
            Environment.production,
            _Owner.email,
            _Owner.name,
        )
        .join(Organisation, Organisation.id == Case.organisation_id)
        .join(Environment, Environment.id == Case.environment_id)
        .outerjoin(_Owner, _Owner.id == Case.owner_id)
        .where(Case.id.in_(bindparam("ids", expanding=True)))
    )


def _page(db: Session, ids: list[int], packages: dict[int, SupportPackage]) -> dict[int, QueueCase]:
    names = {package_id: Named(p.name) for package_id, p in packages.items()}
    width = len(_FROM_CASE)
    loaded = {}
    for row in db.connection().execute(_page_query(), {"ids": ids}).all():
        package_id, organisation, env_id, env_name, env_type, production, email, name = row[width:]
        loaded[row[0]] = QueueCase(
            **dict(zip(_FROM_CASE, row[:width], strict=True)),
            organisation=Named(organisation),
            environment=EnvironmentFacts(env_id, env_name, env_type, production),
            owner=None if email is None else PersonFacts(email, name),
            package=names[package_id],
        )
    return loaded


def queue(*, db: Session, viewer: User, now: datetime, limit: int, offset: int) -> list[QueueEntry]:
    if viewer.role not in cases.HANDLER_ROLES:
        raise Forbidden("engineers_only", "the queue is for engineers and leads")
    packages = {p.id: p for p in db.scalars(select(SupportPackage))}
    if not packages:
        return []  # a desk not set up yet: no package, so no case either
    need = offset + limit
    ranked: list[Ranked] = []
    for severity in SEVERITIES:
        ranked.extend(_severity_top(db, severity, packages, need, now))
        if len(ranked) >= need:
            break
    page = ranked[offset:need]
    loaded = _page(db, [p[2] for p in page], packages) if page else {}
    return [QueueEntry(loaded[case_id], s) for _v, _at, case_id, s in page if case_id in loaded]


def _severity_top(
    db: Session,
    severity: str,
    packages: dict[int, SupportPackage],
    need: int,
    now: datetime,
) -> list[Ranked]:
    """One severity's best ``need`` cases, best first, reading as few candidates as it can.

    Each slice is read best first, so its first case bounds the score of all its others: a
    slice whose first case scores below the ``need``-th best already read cannot reach the
    page, and is not read. The first read takes in full the slice most likely to lead (the
    heaviest package's waiting cases) and only the first case of every other slice; the
    second, if any, reads in full the slices that may still reach the page. Two reads at most.
    """
    likely = (max(packages, key=lambda p: (packages[p].queue_weight, -p)), "waiting")
    others = tuple((p, g) for p in sorted(packages) for g in GROUPS if (p, g) != likely)
    first = _candidates(db, severity, (likely,), others, need)
    taken: list[Ranked] = []
    best: dict[Slice, float] = {}
    for row in first:
        ranked = _ranked(row, packages[row[1]], now)
        key = (row[1], row[2])
        if key == likely:
            taken.append(ranked)
        else:
            best[key] = ranked[0]
    floor = _nth_value(taken, need)
    more = tuple(key for key in others if key in best and (floor is None or best[key] >= floor))
    if more:
        taken.extend(
            _ranked(row, packages[row[1]], now) for row in _candidates(db, severity, more, (), need)
        )
    taken.sort(key=lambda r: (-r[0], r[1], r[2]))
    return taken[:need]


def _nth_value(taken: list[Ranked], n: int) -> float | None:
    """The ``n``-th best score value in ``taken``; None while it holds fewer than ``n``."""
    if len(taken) < n:
        return None
    return heapq.nlargest(n, (r[0] for r in taken))[-1]
