"""The access log: who among the vendor's staff read an organisation's cases and files.

Staff access is recorded as audit events (so it is hash-chained like every other event):
``case.viewed`` (the case over the API or its page), ``log_analysis.viewed`` (a file's log
analysis or the case's analysis page), ``attachment.downloaded`` (written by the download
itself) and ``cloud_access.opened``/``cloud_access.used`` (written by cloud access). A
customer's own people are not on it: the log answers "who at the vendor saw our data".

Views are de-duplicated per (staff member, case, kind of view) within a window
(``CRITDESK_ACCESS_LOG_DEDUP_MINUTES``, 15 by default): an engineer working on a case reloads
its page dozens of times an hour, and one line per quarter hour says the same thing without
burying the downloads. A small table of marks holds when each was last recorded; claiming a
mark is one conditional upsert, so two processes serving the same person at once record one
view. Downloads and cloud access uses are recorded every time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from critdesk.attachment.models import Attachment
from critdesk.audit import service as audit
from critdesk.audit.models import AccessMark, AuditEvent
from critdesk.auth.models import STAFF_ROLES, User
from critdesk.case.models import Case, format_ref
from critdesk.case.service import parse_ref
from critdesk.errors import Forbidden, Invalid, NotFound
from critdesk.organisation.models import Organisation

MAX_ID = 2**62
VIEW_ACTIONS = ("case.viewed", "log_analysis.viewed")
ACCESS_ACTIONS = (
    *VIEW_ACTIONS,
    "attachment.downloaded",
    "cloud_access.opened",
    "cloud_access.used",
)
ACTION_LABELS = {
    "case.viewed": "viewed the case",
    "log_analysis.viewed": "viewed the log analysis",
    "attachment.downloaded": "downloaded a file",
    "cloud_access.opened": "opened cloud access",
    "cloud_access.used": "used cloud access",
}


# --- recording a view -------------------------------------------------------------------------


def mark_key(action: str, case: Case, attachment: Attachment | None = None) -> str:
    return f"{action}:{case.ref}" + (f":{attachment.id}" if attachment is not None else "")


def recorded_since(*, db: Session, actor: User, key: str, since: datetime) -> bool:
    """A read-only look first: within the window a view costs no write transaction at all."""
    recorded_at = db.scalar(
        select(AccessMark.recorded_at).where(AccessMark.actor_id == actor.id, AccessMark.key == key)
    )
    return recorded_at is not None and recorded_at > since


def _claim(db: Session, actor: User, key: str, now: datetime, since: datetime) -> bool:
    """Moves the mark to ``now`` unless it was set after ``since``; True if this call did."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(AccessMark)
        .values(actor_id=actor.id, key=key, recorded_at=now)
        .on_conflict_do_update(
            index_elements=[AccessMark.actor_id, AccessMark.key],
            set_={"recorded_at": now},
            where=AccessMark.recorded_at <= since,
        )
        .returning(AccessMark.actor_id)
    )
    return db.execute(statement).first() is not None


def record_view(
    *,
    db: Session,
    viewer: User,
    case: Case,
    action: str,
    now: datetime,
    window: timedelta,
    attachment: Attachment | None = None,
) -> bool:
    """Records a staff member's view of a case (or of one file's analysis) unless the same
    view was recorded within ``window``; returns whether it recorded one."""
    if action not in VIEW_ACTIONS:
        raise ValueError(f"not a view: {action}")
    if not viewer.is_staff:
        return False
    if not _claim(db, viewer, mark_key(action, case, attachment), now, now - window):
        return False
    data: dict[str, Any] = {"case": case.ref}
    if attachment is not None:
        data |= {"attachment_id": attachment.id, "name": attachment.name}
    audit.record(
        db=db,
        at=now,
        actor_id=viewer.id,
        action=action,
        object_type="case",
        object_id=case.ref,
        organisation_id=case.organisation_id,
        data=data,
    )
    return True


# --- reading the log ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccessFilters:
    organisation_id: int | None = None
    case_ref: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def scope(*, db: Session, viewer: User, organisation_id: int | None) -> int | None:
    """Whose access log the viewer may read: a customer admin their organisation's only, the
    vendor's admins any organisation's (all of them without ``organisation_id``)."""
    if viewer.role == "customer_admin":
        if organisation_id is not None and organisation_id != viewer.organisation_id:
            raise NotFound("organisation")
        return viewer.organisation_id
    if viewer.role == "admin":
        if organisation_id is not None and db.get(Organisation, organisation_id) is None:
            raise NotFound("organisation")
        return organisation_id
    if viewer.is_customer:
        raise Forbidden("customer_admin_only", "your organisation's admin sees the access log")
    raise Forbidden("admins_only", "only admins read the access log")


def checked(filters: AccessFilters) -> AccessFilters:
    """The filters with the case ref in its one spelling (``pch-12`` is ``PCH-000012``)."""
    if not filters.case_ref:
        return replace(filters, case_ref=None)
    try:
        ref = format_ref(parse_ref(filters.case_ref.strip()))
    except NotFound as error:
        raise Invalid("invalid_case", "a case ref looks like PCH-000123") from error
    return replace(filters, case_ref=ref)


def _query(organisation_id: int | None, filters: AccessFilters) -> Select[AuditEvent, str, str]:
    query = (
        select(AuditEvent, User.name, User.role)
        .join(User, AuditEvent.actor_id == User.id)
        .where(AuditEvent.action.in_(ACCESS_ACTIONS), User.role.in_(STAFF_ROLES))
    )
    if organisation_id is not None:
        query = query.where(AuditEvent.organisation_id == organisation_id)
    else:
        query = query.where(AuditEvent.organisation_id.is_not(None))
    if filters.case_ref:
        query = query.where(AuditEvent.data["case"].as_string() == filters.case_ref)
    if filters.since is not None:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.at < filters.until)
    return query


def access_log(
    *, db: Session, viewer: User, filters: AccessFilters, limit: int, before_id: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the access log, newest first, and the id to continue before (or None)."""
    organisation_id = scope(db=db, viewer=viewer, organisation_id=filters.organisation_id)
    query = _query(organisation_id, checked(filters))
    if before_id is not None:
        if before_id > MAX_ID:
            raise Invalid("invalid_cursor", "cursor is not one this API returned")
        query = query.where(AuditEvent.id < before_id)
    rows = db.execute(query.order_by(AuditEvent.id.desc()).limit(limit + 1)).all()
    items = [_entry(event, name, role) for event, name, role in rows[:limit]]
    return items, (items[-1]["id"] if len(rows) > limit else None)


def _entry(event: AuditEvent, name: str, role: str) -> dict[str, Any]:
    data = event.data or {}
    file = data.get("name") if event.action in ("attachment.downloaded", *VIEW_ACTIONS) else None
    return {
        "id": event.id,
        "at": event.at,
        "who": {"name": name, "role": role},
        "action": event.action,
        "case": data.get("case"),
        "file": file,
        "organisation_id": event.organisation_id,
    }
