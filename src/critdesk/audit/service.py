"""Writing audit events, in the same transaction as the change they record."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from critdesk.audit.models import AuditEvent
from critdesk.db import insert_row

# Built once: its compiled form is found in the cache without a new statement to key.
_INSERT = insert(cast(Table, AuditEvent.__table__))


def record(
    *,
    db: Session,
    at: datetime,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str | int,
    organisation_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Writes one event (unsealed) in ``db``'s transaction; returns its id."""
    # A plain INSERT, not the unit of work: every change of the desk writes one of these, and
    # an add() cost its flush several times the statement itself.
    return insert_row(
        db,
        _INSERT,
        {
            "at": at,
            "actor_id": actor_id,
            "organisation_id": organisation_id,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "data": data or {},
        },
    )
