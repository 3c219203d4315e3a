"""Screen-sharing routes; slot times are returned in UTC and in each side's time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response
from pydantic import AnyHttpUrl, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from critdesk.auth.deps import CurrentUser
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.case.schemas import PersonOut, person
from critdesk.screenshare import rules, service
from critdesk.screenshare.models import ScreenShare
from critdesk.web import DbSession, Id, Now

router = APIRouter(prefix="/api/v1/cases/{ref}/screen-shares", tags=["screen-sharing"])
STAFF_ZONE = "Europe/London"


class SlotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: AwareDatetime
    end: AwareDatetime


class ProposeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slots: list[SlotIn] = Field(min_length=1, max_length=rules.MAX_SLOTS)
    meeting_link: AnyHttpUrl
    request_id: Id | None = None


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: AwareDatetime


class NotesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notes: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)]


class SlotOut(BaseModel):
    start: datetime
    end: datetime
    customer_local: str
    engineer_local: str


class ScreenShareOut(BaseModel):
    id: int
    state: str
    slots: list[SlotOut]
    accepted: SlotOut | None
    meeting_link: str
    proposed_by: PersonOut
    notes: str | None
    request_id: int | None
    customer_time_zone: str
    engineer_time_zone: str
    invite_url: str | None


def _local(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M %Z")


def _slot(slot: rules.Slot, customer_zone: str, engineer_zone: str) -> dict[str, Any]:
    return {
        "start": slot.start,
        "end": slot.end,
        "customer_local": _local(slot.start, customer_zone),
        "engineer_local": _local(slot.start, engineer_zone),
    }


def share_view(case: Case, share: ScreenShare) -> dict[str, Any]:
    customer_zone = case.reporter.time_zone or case.package.calendar.get("timezone", "UTC")
    engineer_zone = share.proposed_by.time_zone or STAFF_ZONE
    accepted = None
    if share.accepted_start is not None and share.accepted_end is not None:
        accepted = _slot(
            rules.Slot(share.accepted_start, share.accepted_end), customer_zone, engineer_zone
        )
    return {
        "id": share.id,
        "state": share.state,
        "slots": [_slot(s, customer_zone, engineer_zone) for s in service.slots_of(share)],
        "accepted": accepted,
        "meeting_link": share.meeting_link,
        "proposed_by": person(share.proposed_by),
        "notes": share.notes,
        "request_id": share.request_id,
        "customer_time_zone": customer_zone,
        "engineer_time_zone": engineer_zone,
        "invite_url": f"/api/v1/cases/{case.ref}/screen-shares/{share.id}/invite.ics"
        if accepted
        else None,
    }


@router.get("", response_model=list[ScreenShareOut])
def list_shares(ref: str, db: DbSession, user: CurrentUser) -> list[dict[str, Any]]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    return [share_view(case, s) for s in service.list_shares(db=db, case=case)]


@router.post("", response_model=ScreenShareOut, status_code=201)
def propose(
    ref: str, body: ProposeIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    share = service.propose(
        db=db,
        case=case,
        actor=user,
        slots=[rules.Slot(s.start, s.end) for s in body.slots],
        meeting_link=str(body.meeting_link),
        request_id=body.request_id,
        now=now,
    )
    return share_view(case, share)


@router.post("/{share_id}/accept", response_model=ScreenShareOut)
def accept(
    ref: str, share_id: Id, body: AcceptIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    share = service.get_share(db=db, case=case, share_id=share_id)
    return share_view(
        case, service.accept(db=db, case=case, share=share, actor=user, start=body.start, now=now)
    )


@router.post("/{share_id}/notes", response_model=ScreenShareOut)
def notes(
    ref: str, share_id: Id, body: NotesIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    share = service.get_share(db=db, case=case, share_id=share_id)
    return share_view(
        case,
        service.record_notes(db=db, case=case, share=share, actor=user, notes=body.notes, now=now),
    )


@router.post("/{share_id}/cancel", response_model=ScreenShareOut)
def cancel(ref: str, share_id: Id, db: DbSession, user: CurrentUser, now: Now) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    share = service.get_share(db=db, case=case, share_id=share_id)
    return share_view(case, service.cancel(db=db, case=case, share=share, actor=user, now=now))


@router.get(
    "/{share_id}/invite.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
def invite(ref: str, share_id: Id, db: DbSession, user: CurrentUser, now: Now) -> Response:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    share = service.get_share(db=db, case=case, share_id=share_id)
    body = service.invitation(case=case, share=share, now=now)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8; method=REQUEST",
        headers={"Content-Disposition": f'attachment; filename="{case.ref}-session.ics"'},
    )
