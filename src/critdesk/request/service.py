"""Info requests: an engineer asks, the customer answers; the case waits on whoever must act."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from critdesk.attachment.models import Attachment
from critdesk.auth.models import User
from critdesk.case import rules as case_rules
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.errors import Conflict, Forbidden, Invalid, NotFound
from critdesk.request import rules
from critdesk.request.models import REQUEST_KINDS, InfoRequest


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _checked(kind: str, details: dict[str, Any]) -> dict[str, Any]:
    try:
        return {k: _iso(v) for k, v in rules.validate_details(kind, details).items()}
    except rules.RequestRuleError as error:
        raise Invalid(error.code, str(error)) from error


def _next_state(case: Case, action: str) -> str:
    try:
        return case_rules.next_state(action, case.state)
    except case_rules.TransitionRefused as refused:
        if case.state == "new":
            raise Conflict(
                "investigation_not_started", "start investigating before asking the customer"
            ) from refused
        raise Conflict("invalid_transition", refused.message) from refused


def open_request(
    *,
    db: Session,
    case: Case,
    actor: User,
    kind: str,
    message: str,
    details: dict[str, Any],
    due_at: datetime | None,
    now: datetime,
    default_due: timedelta,
) -> InfoRequest:
    """Asks the customer for something; the case now waits on the customer."""
    if actor.role not in cases.HANDLER_ROLES:
        raise Forbidden("engineers_only", "only engineers and leads open info requests")
    if kind not in REQUEST_KINDS:
        raise Invalid("invalid_kind", f"kind must be one of {REQUEST_KINDS}")
    state = _next_state(case, "request_info")
    if due_at is not None and due_at <= now:
        raise Invalid("due_in_past", "due_at must be in the future")
    request = InfoRequest(
        case_id=case.id,
        kind=kind,
        message=message.strip(),
        details=_checked(kind, details),
        state="open",
        due_at=due_at or now + default_due,
        created_by_id=actor.id,
        created_at=now,
    )
    request.created_by = actor
    request.answered_by = None
    db.add(request)
    db.flush()
    cases.change_state(
        db,
        case,
        actor,
        now,
        "info_requested",
        state,
        request={"id": request.id, "kind": kind},
        message=request.message,
    )
    return request


def get_request(*, db: Session, case: Case, request_id: int) -> InfoRequest:
    request = db.get(InfoRequest, request_id)
    if request is None or request.case_id != case.id:
        raise NotFound("info request")
    return request


def list_requests(*, db: Session, case: Case) -> list[InfoRequest]:
    query = select(InfoRequest).where(InfoRequest.case_id == case.id).order_by(InfoRequest.id)
    return list(db.scalars(query))


def attachment_ids(
    *, db: Session, requests: list[InfoRequest], viewer: User
) -> dict[int, list[int]]:
    """The files attached to each request (internal files only for vendor staff)."""
    ids: dict[int, list[int]] = {r.id: [] for r in requests}
    if not ids:
        return ids
    query = select(Attachment.request_id, Attachment.id).where(
        Attachment.request_id.in_(ids), Attachment.deleted_at.is_(None)
    )
    if viewer.is_customer:
        query = query.where(Attachment.internal.is_(False))
    for request_id, attachment_id in db.execute(query.order_by(Attachment.id)):
        if request_id is not None:  # the query asks for these requests' files only
            ids[request_id].append(attachment_id)
    return ids


def _may_answer(case: Case, actor: User) -> None:
    # The customer answers; an engineer may record an answer given by phone or e-mail.
    if actor.is_customer:
        if actor.organisation_id != case.organisation_id:
            raise NotFound("case")
        return
    if actor.role not in cases.HANDLER_ROLES:
        raise Forbidden("not_allowed", "only the customer or an engineer records an answer")


def _link_attachments(db: Session, case: Case, request: InfoRequest, ids: list[int]) -> None:
    if not ids:
        return
    found = db.scalars(
        select(Attachment).where(
            Attachment.id.in_(ids),
            Attachment.case_id == case.id,
            Attachment.deleted_at.is_(None),
            Attachment.internal.is_(False),
        )
    ).all()
    if len(found) != len(set(ids)):
        raise Invalid("unknown_attachment", "every attachment must be a file of this case")
    for attachment in found:
        attachment.request_id = request.id


def answer_request(
    *,
    db: Session,
    case: Case,
    request: InfoRequest,
    actor: User,
    message: str,
    attachment_ids: list[int],
    test_result: str | None,
    now: datetime,
) -> InfoRequest:
    _may_answer(case, actor)
    if request.state != "open":
        raise Conflict("request_not_open", f"this request is already {request.state}")
    try:
        rules.check_answer(request.kind, test_result)
    except rules.RequestRuleError as error:
        raise Invalid(error.code, str(error)) from error
    _link_attachments(db, case, request, attachment_ids)
    request.state = "answered"
    request.answer = message.strip()
    request.test_result = test_result
    request.answered_at = now
    request.answered_by_id = actor.id
    request.answered_by = actor
    data = {"request": {"id": request.id, "kind": request.kind}, "attachment_ids": attachment_ids}
    if test_result:
        data["result"] = test_result
    _after_close(db, case, actor, now, "info_request_answered", data, request.answer)
    return request


def cancel_request(
    *, db: Session, case: Case, request: InfoRequest, actor: User, reason: str, now: datetime
) -> InfoRequest:
    if actor.role not in cases.HANDLER_ROLES:
        raise Forbidden("engineers_only", "only engineers and leads cancel info requests")
    if request.state != "open":
        raise Conflict("request_not_open", f"this request is already {request.state}")
    request.state = "cancelled"
    request.cancelled_at = now
    data = {"request": {"id": request.id, "kind": request.kind}}
    _after_close(db, case, actor, now, "info_request_cancelled", data, reason.strip() or None)
    return request


def open_count(db: Session, case: Case) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(InfoRequest)
            .where(InfoRequest.case_id == case.id, InfoRequest.state == "open")
        )
        or 0
    )


def _after_close(
    db: Session,
    case: Case,
    actor: User,
    now: datetime,
    kind: str,
    data: dict[str, Any],
    message: str | None,
) -> None:
    """Once the last open request is closed, the case waits on the vendor again."""
    db.flush()
    if case.state == "awaiting_customer" and open_count(db, case) == 0:
        cases.change_state(db, case, actor, now, kind, "investigating", message=message, **data)
    else:
        cases.record_event(
            db=db, case=case, actor=actor, now=now, kind=kind, message=message, data=data
        )


def remind_overdue(*, db: Session, now: datetime, every: timedelta, limit: int = 500) -> int:
    """Records a reminder on each overdue open request, claiming each with a conditional update
    so that concurrent sweeps never remind twice."""
    candidates = db.execute(
        select(
            InfoRequest.id,
            InfoRequest.due_at,
            InfoRequest.last_reminded_at,
            InfoRequest.reminders_sent,
        )
        .where(InfoRequest.state == "open", InfoRequest.due_at <= now)
        .order_by(InfoRequest.due_at)
        .limit(limit)
    ).all()
    reminded = 0
    for request_id, due_at, last, sent in candidates:
        if not rules.reminder_due(
            due_at=due_at, last_reminded_at=last, now=now, every_seconds=int(every.total_seconds())
        ):
            continue
        claimed = db.execute(
            update(InfoRequest)
            .where(
                InfoRequest.id == request_id,
                InfoRequest.reminders_sent == sent,
                InfoRequest.state == "open",
            )
            .values(reminders_sent=sent + 1, last_reminded_at=now)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            continue
        request = db.get(InfoRequest, request_id)
        assert request is not None
        case = cases.load_case(db, request.case_id)
        cases.record_event(
            db=db,
            case=case,
            actor=None,
            now=now,
            kind="info_request_reminder",
            message=f"Reminder: the {request.kind.replace('_', ' ')} request is overdue.",
            data={"request": {"id": request.id, "kind": request.kind}, "reminder": sent + 1},
        )
        reminded += 1
    return reminded
