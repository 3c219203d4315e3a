"""Writing audit events, in the same transaction as the change they record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from critdesk.audit.models import AuditEvent


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
) -> AuditEvent:
    event = AuditEvent(
        at=at,
        actor_id=actor_id,
        organisation_id=organisation_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data=data or {},
    )
    db.add(event)
    return event
