"""Screen-sharing sessions: the engineer proposes slots, the customer accepts one, both get an
invitation, and the engineer records notes afterwards."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from critdesk.auth.models import User
from critdesk.case import rules as case_rules
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.errors import Conflict, Forbidden, Invalid, NotFound
from critdesk.request import service as requests
from critdesk.request.models import InfoRequest
from critdesk.screenshare import rules
from critdesk.screenshare.models import ScreenShare


def slots_of(share: ScreenShare) -> list[rules.Slot]:
    return [
        rules.Slot(datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in share.slots
    ]


def _require_handler(actor: User) -> None:
    if actor.role not in cases.HANDLER_ROLES:
        raise Forbidden("engineers_only", "only engineers and leads arrange screen-sharing")


def propose(
    *,
    db: Session,
    case: Case,
    actor: User,
    slots: list[rules.Slot],
    meeting_link: str,
    request_id: int | None,
    now: datetime,
) -> ScreenShare:
    _require_handler(actor)
    if not case_rules.allows("request_info", case.state):  # a session is a kind of request
        raise Conflict("invalid_state", f"cannot arrange a session on a case that is {case.state}")
    try:
        ordered = rules.check_slots(slots, now)
    except rules.SlotError as error:
        raise Invalid(error.code, str(error)) from error
    if request_id is not None:
        request = db.get(InfoRequest, request_id)
        if request is None or request.case_id != case.id or request.kind != "screen_share":
            raise Invalid(
                "unknown_request", "request_id must be a screen_share request of this case"
            )
    share = ScreenShare(
        case_id=case.id,
        request_id=request_id,
        proposed_by_id=actor.id,
        slots=[{"start": s.start.isoformat(), "end": s.end.isoformat()} for s in ordered],
        meeting_link=meeting_link,
        state="proposed",
        ical_uid=f"{uuid.uuid4()}@critdesk",
        created_at=now,
    )
    share.proposed_by = actor
    db.add(share)
    db.flush()
    cases.record_event(
        db=db,
        case=case,
        actor=actor,
        now=now,
        kind="screen_share_proposed",
        data={"screen_share": share.id, "slots": share.slots},
    )
    return share


def get_share(*, db: Session, case: Case, share_id: int) -> ScreenShare:
    share = db.get(ScreenShare, share_id)
    if share is None or share.case_id != case.id:
        raise NotFound("screen-sharing session")
    return share


def list_shares(*, db: Session, case: Case) -> list[ScreenShare]:
    return list(
        db.scalars(
            select(ScreenShare).where(ScreenShare.case_id == case.id).order_by(ScreenShare.id)
        )
    )


def accept(
    *, db: Session, case: Case, share: ScreenShare, actor: User, start: datetime, now: datetime
) -> ScreenShare:
    """The customer picks one of the proposed slots; any other time is refused."""
    if not actor.is_customer and actor.role not in cases.HANDLER_ROLES:
        raise Forbidden("not_allowed", "the customer (or an engineer on their behalf) accepts")
    if share.state != "proposed":
        raise Conflict("not_proposed", f"this session is already {share.state}")
    slot = rules.matching_slot(slots_of(share), start)
    if slot is None:
        raise Invalid("slot_not_proposed", "accept one of the proposed slots' start times")
    if slot.start <= now:
        raise Conflict("slot_passed", "that slot has already started; ask for new slots")
    share.accepted_start, share.accepted_end = slot.start, slot.end
    share.accepted_by_id = actor.id
    share.state = "accepted"
    share.ical_sequence += 1
    data: dict[str, Any] = {
        "screen_share": share.id,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
    }
    cases.record_event(
        db=db, case=case, actor=actor, now=now, kind="screen_share_accepted", data=data
    )
    if share.request_id is not None:
        request = db.get(InfoRequest, share.request_id)
        if request is not None and request.state == "open":
            requests.answer_request(
                db=db,
                case=case,
                request=request,
                actor=actor,
                attachment_ids=[],
                message=f"Accepted the session starting {slot.start.isoformat()}.",
                test_result=None,
                now=now,
            )
    return share


def record_notes(
    *, db: Session, case: Case, share: ScreenShare, actor: User, notes: str, now: datetime
) -> ScreenShare:
    _require_handler(actor)
    if share.state != "accepted":
        raise Conflict("not_accepted", "notes follow a session that was accepted")
    share.notes = notes.strip()
    share.state = "done"
    cases.record_event(
        db=db,
        case=case,
        actor=actor,
        now=now,
        kind="screen_share_notes",
        message=share.notes,
        data={"screen_share": share.id},
    )
    return share


def cancel(
    *, db: Session, case: Case, share: ScreenShare, actor: User, now: datetime
) -> ScreenShare:
    if not actor.is_customer and actor.role not in cases.HANDLER_ROLES:
        raise Forbidden("not_allowed", "only the case's parties cancel a session")
    if share.state not in ("proposed", "accepted"):
        raise Conflict("not_cancellable", f"this session is already {share.state}")
    share.state = "cancelled"
    share.ical_sequence += 1
    cases.record_event(
        db=db,
        case=case,
        actor=actor,
        now=now,
        kind="screen_share_cancelled",
        data={"screen_share": share.id},
    )
    return share


def invitation(*, case: Case, share: ScreenShare, now: datetime) -> bytes:
    if share.accepted_start is None or share.accepted_end is None:
        raise Conflict("not_accepted", "the invitation exists once a slot is accepted")
    engineer = share.proposed_by
    return rules.ics(
        rules.Invitation(
            uid=share.ical_uid,
            sequence=share.ical_sequence,
            start=share.accepted_start,
            end=share.accepted_end,
            summary=f"{case.ref}: screen-sharing session",
            description=f"Screen-sharing session for case {case.ref}: {case.title}",
            meeting_link=share.meeting_link,
            organizer_email=engineer.email,
            organizer_name=engineer.name,
            attendees=((case.reporter.email, case.reporter.name), (engineer.email, engineer.name)),
            stamp=now,
            cancelled=share.state == "cancelled",
        )
    )
