"""What the operators' endpoints read from the database: readiness and the desk's figures.

Every figure is computed from the database when asked (at scrape time), never counted in a
process: any API process answers the same, however many there are and whichever restarted.
Each query is served by an index the desk already has (see the comments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from critdesk.case.models import Case, CaseEvent
from critdesk.logs.models import LogAnalysis
from critdesk.migration import alembic_config
from critdesk.notification.models import CLAIMABLE, Notification

# Outbox states that are work still to do or given up on; ``sent`` rows are history.
BACKLOG_STATES = ("pending", "sending", "failed", "dead")


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str | None = None
    database_revisions: tuple[str, ...] = ()
    code_revisions: tuple[str, ...] = ()


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


@cache
def code_heads() -> tuple[str, ...]:
    """The newest migration(s) this code knows: read from the scripts once per process."""
    return tuple(sorted(_scripts().get_heads()))


@cache
def known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())


def readiness(*, engine: Engine) -> Readiness:
    """Ready when the database answers and its schema is at the code's newest migration.

    A database *ahead* of the code (at a revision this code does not know) is a rolling
    upgrade in progress: a newer release ran ``critdesk db upgrade``, whose migrations add
    before they remove (expand, then contract in a later release), so this process still
    works and stays in the pool until it is replaced. A database *behind* the code is not
    ready: the code would use columns that are not there yet."""
    heads = code_heads()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = _database_revisions(connection)
    except Exception as error:  # any driver error: not reachable, refused, timed out
        return Readiness(False, f"database unreachable: {type(error).__name__}", (), heads)
    newer = [revision for revision in current if revision not in known_revisions()]
    if current and newer:
        note = f"database ahead of this code ({', '.join(newer)}): a rolling upgrade"
        return Readiness(True, note, current, heads)
    if current != heads:
        reason = (
            f"migrations not current: database at {', '.join(current) or 'none'}, "
            f"code at {', '.join(heads)}; run critdesk db upgrade"
        )
        return Readiness(False, reason, current, heads)
    return Readiness(True, None, current, heads)


def _database_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions in Alembic's version table (none when it has never been migrated)."""
    if not inspect(connection).has_table("alembic_version"):
        return ()
    rows = connection.execute(text("SELECT version_num FROM alembic_version"))
    return tuple(sorted(row[0] for row in rows))


@dataclass(frozen=True)
class Figures:
    """The desk's state as gauges: open cases per severity and queue group, SLA breaches,
    how late each kind of background work is, the outbox backlog per state."""

    open_cases: dict[tuple[str, str], int] = field(default_factory=dict)
    sla_breaches: int = 0
    breached_waiting: int = 0
    job_lag_seconds: dict[str, float] = field(default_factory=dict)
    outbox_backlog: dict[str, int] = field(default_factory=dict)

    @property
    def dead_letters(self) -> int:
        return self.outbox_backlog.get("dead", 0)


def figures(*, db: Session, now: datetime) -> Figures:
    # ix_cases_queue_due (queue_group, severity, …): open cases have a queue group.
    open_cases = {
        (severity, str(group)): count
        for severity, group, count in db.execute(
            select(Case.severity, Case.queue_group, func.count())
            .where(Case.queue_group.is_not(None))
            .group_by(Case.severity, Case.queue_group)
        )
    }
    # Every case whose clock breached, ever: it only grows (cases are never deleted).
    sla_breaches = db.scalar(select(func.count()).where(Case.sla_breached.is_(True))) or 0
    breached_waiting = (
        db.scalar(
            select(func.count()).where(
                Case.queue_group == "waiting", Case.sla_breach_sent_at.is_not(None)
            )
        )
        or 0
    )
    backlog = dict.fromkeys(BACKLOG_STATES, 0) | {
        state: count
        for state, count in db.execute(
            # ix_notifications_due (state, next_attempt_at)
            select(Notification.state, func.count())
            .where(Notification.state.in_(BACKLOG_STATES))
            .group_by(Notification.state)
        )
    }
    return Figures(
        open_cases=open_cases,
        sla_breaches=sla_breaches,
        breached_waiting=breached_waiting,
        job_lag_seconds=job_lags(db=db, now=now),
        outbox_backlog=backlog,
    )


def job_lags(*, db: Session, now: datetime) -> dict[str, float]:
    """Per kind of background work, how long its oldest due item has waited (0 when none):
    a runner that keeps up holds these near its polling interval."""
    running = (Case.state == "new", Case.sla_met_at.is_(None))
    oldest = {
        # ix_case_events_notify_pending: events whose notifications the drain has not yet
        # fanned out to the outbox.
        "notification_fan_out": select(func.min(CaseEvent.at)).where(CaseEvent.notify.is_not(None)),
        # ix_notifications_due: claimable rows whose time has come (a lapsed lease included).
        "outbox": select(func.min(Notification.next_attempt_at)).where(
            Notification.state.in_(CLAIMABLE), Notification.next_attempt_at <= now
        ),
        # ix_cases_sla_warn / ix_cases_sla_due (state, …): timers due and not yet fired.
        "sla_warning": select(func.min(Case.sla_warn_at)).where(
            *running,
            Case.sla_warning_sent_at.is_(None),
            Case.sla_warn_at <= now,
            Case.sla_due_at > now,
        ),
        "sla_breach": select(func.min(Case.sla_due_at)).where(
            *running, Case.sla_breach_sent_at.is_(None), Case.sla_due_at <= now
        ),
        # ix_log_analyses_state_lease: analyses waiting for a runner.
        "log_analysis": select(func.min(LogAnalysis.created_at)).where(
            LogAnalysis.state == "pending"
        ),
    }
    lags = {}
    for job, query in oldest.items():
        since = db.scalar(query)
        lags[job] = max(0.0, (now - since).total_seconds()) if since is not None else 0.0
    return lags
