"""SLA actions: the warning and the breach of a case's start-investigating clock.

Each writes its timeline event (and so, through the case event hook, its notifications) in
the caller's transaction; sla/jobs.py claims the cases first so that each fires once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from critdesk.case import service as cases
from critdesk.case.models import Case, CaseEvent
from critdesk.sla.rules import WARN_SHARE


def _target(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    if rest == 0:
        return f"{hours}h"
    return f"{hours}h{rest // 60:02d}" if hours else f"{rest // 60}m"


def _due(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def record_warning(*, db: Session, case: Case, now: datetime) -> CaseEvent:
    """75 % of the target used and nobody investigating: the desk's own early escalation, an
    internal event (the customer is told of a breach, not of the warning)."""
    return cases.record_event(
        db=db,
        case=case,
        actor=None,
        now=now,
        kind="sla_warning",
        internal=True,
        message=(
            f"{int(WARN_SHARE * 100)} % of the {_target(case.sla_target_seconds)} "
            f"start-investigating target is used; investigation is due at {_due(case.sla_due_at)}."
        ),
        data={
            "severity": case.severity,
            "warn_at": case.sla_warn_at.isoformat(),
            "due_at": case.sla_due_at.isoformat(),
            "target_seconds": case.sla_target_seconds,
        },
    )


def record_breach(*, db: Session, case: Case, now: datetime) -> CaseEvent:
    """The target passed with nobody investigating: escalated to the leads and the
    organisation's account manager, and the customer is told."""
    return cases.record_event(
        db=db,
        case=case,
        actor=None,
        now=now,
        kind="sla_breach",
        message=(
            f"The {_target(case.sla_target_seconds)} start-investigating target was due at "
            f"{_due(case.sla_due_at)} and investigation has not started; the case is escalated."
        ),
        data={
            "severity": case.severity,
            "due_at": case.sla_due_at.isoformat(),
            "target_seconds": case.sla_target_seconds,
            "escalated_to": ["leads", "account_manager"],
        },
    )
