"""The SLA sweeps: timers are columns (``sla_warn_at``, ``sla_due_at``); a sweep finds the
running clocks whose warning or breach is due and fires each exactly once.

A case is claimed by a conditional update that sets ``sla_warning_sent_at`` /
``sla_breach_sent_at`` (rows locked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that
concurrent sweeps split the work instead of queueing on each other); the timeline event and its
notifications are written in the same transaction, so a crash loses or repeats nothing. Claims
go in batches: the caller commits each batch and asks again until a batch comes back short.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, load_only

from critdesk.case.models import Case
from critdesk.db import write_batch
from critdesk.sla import service

BATCH = 1000
# Each claimed case writes its event and escalations: on SQLite a batch is held short (db.py).
SQLITE_BATCH = 25
PAGE = 16


def batch(db: Session) -> int:
    """How many cases one sweep claims by default on this database."""
    return write_batch(db, BATCH, sqlite=SQLITE_BATCH)


def _running() -> tuple[Any, ...]:
    # The clock runs until an engineer starts investigating, and only for new cases.
    return (Case.state == "new", Case.sla_met_at.is_(None))


def _claim(db: Session, conditions: Sequence[Any], values: dict[str, Any], limit: int) -> list[int]:
    # The batch's events and audit records go in as multi-row INSERTs; pages this short keep
    # each statement small enough for psycopg to cache its parsing (long ones cost more to
    # parse than to run).
    db.connection(execution_options={"insertmanyvalues_page_size": PAGE})
    due = (
        select(Case.id)
        .where(*conditions)
        .order_by(Case.sla_due_at, Case.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        # Materialised once: as a plain subquery PostgreSQL may run it again for each row of
        # the update (a nested-loop rescan), locking and claiming far more than ``limit``.
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    claimed = db.execute(
        update(Case)
        .where(Case.id.in_(select(due.c.id)), *conditions)
        .values(**values)
        .returning(Case.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars().all())


# What the events and their notifications read of a case: thousands are loaded at once.
_READ = (
    Case.id,
    Case.title,
    Case.severity,
    Case.state,
    Case.organisation_id,
    Case.reporter_id,
    Case.owner_id,
    Case.sla_target_seconds,
    Case.sla_warn_at,
    Case.sla_due_at,
    Case.updated_at,
    Case.version,
)


def _claimed_cases(db: Session, ids: list[int]) -> list[Case]:
    # Read after the claim (a sweep's session holds no case before it), so they carry its
    # updated_at: recording the event changes nothing more on the row.
    query = select(Case).options(load_only(*_READ)).where(Case.id.in_(ids)).order_by(Case.id)
    return list(db.scalars(query))


def sweep_breaches(*, db: Session, now: datetime, limit: int | None = None) -> int:
    """Claims up to ``limit`` cases whose breach is due: marks them breached, writes the
    ``sla_breach`` event and its escalations. A breach makes a pending warning moot."""
    ids = _claim(
        db,
        (*_running(), Case.sla_breach_sent_at.is_(None), Case.sla_due_at <= now),
        {
            "sla_breach_sent_at": now,
            "updated_at": now,
            "sla_breached": True,
            "sla_warning_sent_at": func.coalesce(Case.sla_warning_sent_at, now),
        },
        limit or batch(db),
    )
    for case in _claimed_cases(db, ids):
        service.record_breach(db=db, case=case, now=now)
    db.flush()
    return len(ids)


def sweep_warnings(*, db: Session, now: datetime, limit: int | None = None) -> int:
    """Claims up to ``limit`` cases at 75 % of their target (and not yet due)."""
    ids = _claim(
        db,
        (
            *_running(),
            Case.sla_warning_sent_at.is_(None),
            Case.sla_warn_at <= now,
            Case.sla_due_at > now,
        ),
        {"sla_warning_sent_at": now, "updated_at": now},
        limit or batch(db),
    )
    for case in _claimed_cases(db, ids):
        service.record_warning(db=db, case=case, now=now)
    db.flush()
    return len(ids)
