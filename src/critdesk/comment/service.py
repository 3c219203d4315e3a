"""Comments are timeline events of kind ``comment``; internal ones never reach customers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from critdesk.auth.models import User
from critdesk.case import service as cases
from critdesk.case.models import Case, CaseEvent
from critdesk.errors import Forbidden

COMMENT = "comment"


def add_comment(
    *, db: Session, case: Case, actor: User, body: str, internal: bool, now: datetime
) -> CaseEvent:
    if internal and not actor.is_staff:
        raise Forbidden("internal_notes_staff_only", "only vendor staff write internal notes")
    if actor.is_staff and actor.role not in cases.HANDLER_ROLES and not internal:
        raise Forbidden("engineers_only", "only engineers and leads write to the customer")
    event = cases.record_event(
        db=db,
        case=case,
        actor=actor,
        now=now,
        kind=COMMENT,
        message=body.strip(),
        internal=internal,
    )
    db.flush()
    return event


def list_comments(
    *, db: Session, case: Case, viewer: User, limit: int, after_id: int | None
) -> tuple[list[CaseEvent], int | None]:
    query = (
        select(CaseEvent)
        .options(joinedload(CaseEvent.actor))
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == COMMENT)
    )
    if viewer.is_customer:
        query = query.where(CaseEvent.internal.is_(False))
    if after_id is not None:
        query = query.where(CaseEvent.id > after_id)
    rows = list(db.scalars(query.order_by(CaseEvent.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)
