"""Screen-sharing on the case page: the engineer proposes up to five slots (typed in the
engineer's own zone), each side reads them in its own zone, the customer accepts one, both
download the invitation, and the engineer records notes afterwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from critdesk.auth.models import User
from critdesk.auth.pages import Form, PageUser, field
from critdesk.case import rules as case_rules
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.case.pages import case_path, checked, local_datetime, page_zone, run_form
from critdesk.config import Settings
from critdesk.errors import Invalid
from critdesk.screenshare import rules, service

# The API's view is the one definition of each side's zone and of how a slot reads in it.
from critdesk.screenshare.api import AcceptIn, NotesIn, ProposeIn
from critdesk.screenshare.api import share_view as api_view
from critdesk.screenshare.models import ScreenShare
from critdesk.web import MAX_ID, AppSettings, DbSession, Now

router = APIRouter(include_in_schema=False)

ShareId = Annotated[int, Path(ge=1, le=MAX_ID)]
LENGTHS = (30, 45, 60, 90, 120)


def share_view(case: Case, share: ScreenShare, viewer: User, now: datetime) -> dict[str, Any]:
    view = api_view(case, share)
    customer = viewer.is_customer
    handler = viewer.role in cases.HANDLER_ROLES
    party = customer or handler

    def side(slot: dict[str, Any]) -> dict[str, Any]:
        mine, theirs = "engineer_local", "customer_local"
        if customer:
            mine, theirs = theirs, mine
        return slot | {
            "mine": slot[mine],
            "theirs": slot[theirs],
            "value": slot["start"].astimezone(UTC).isoformat(),
            "passed": slot["start"] <= now,
            "minutes": int((slot["end"] - slot["start"]).total_seconds() // 60),
        }

    accepted = view["accepted"]
    return view | {
        "slots": [side(s) for s in view["slots"]],
        "accepted": side(accepted) if accepted else None,
        "their_zone": view["engineer_time_zone" if customer else "customer_time_zone"],
        "my_zone": view["customer_time_zone" if customer else "engineer_time_zone"],
        "can_accept": party and share.state == "proposed",
        "can_cancel": party and share.state in ("proposed", "accepted"),
        "can_note": handler and share.state == "accepted",
    }


def screenshare_panel(
    *,
    db: Session,
    viewer: User,
    case: Case,
    now: datetime,
    open_requests: list[dict[str, Any]],
) -> dict[str, Any]:
    shares = service.list_shares(db=db, case=case)
    handler = viewer.role in cases.HANDLER_ROLES
    return {
        "items": [share_view(case, s, viewer, now) for s in reversed(shares)],
        "can_propose": handler and case_rules.allows("request_info", case.state),
        "slot_count": rules.MAX_SLOTS,
        "lengths": LENGTHS,
        "zone": page_zone(viewer),
        "share_requests": [r for r in open_requests if r["kind"] == "screen_share"],
    }


def read_proposal(form: FormData, zone: str) -> Any:
    minutes = field(form, "minutes", 4)
    if not (minutes.isascii() and minutes.isdigit() and int(minutes) in LENGTHS):
        raise Invalid("invalid_length", "choose how long the session lasts")
    starts = [
        local_datetime(value, zone, f"Slot {number}")
        for number, value in enumerate(form.getlist("slot_start")[: rules.MAX_SLOTS], 1)
        if isinstance(value, str) and value.strip()
    ]
    if not starts:
        raise Invalid("slots_required", "propose at least one slot")
    # In UTC, so that a slot across a clock change lasts the minutes chosen.
    length = timedelta(minutes=int(minutes))
    utc = [s.astimezone(UTC) for s in starts if s is not None]
    slots = [{"start": start, "end": start + length} for start in utc]
    request_id = field(form, "request_id", 20)
    return checked(
        ProposeIn,
        {
            "slots": slots,
            "meeting_link": field(form, "meeting_link", 500).strip(),
            "request_id": int(request_id)
            if request_id.isascii() and request_id.isdigit() and len(request_id) < 19
            else None,
        },
    )


@router.post("/cases/{ref}/screen-shares")
def propose(
    ref: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> RedirectResponse:
    case = cases.get_case(db=db, viewer=user, ref=ref)

    def run() -> str:
        body = read_proposal(form, page_zone(user))
        service.propose(
            db=db,
            case=case,
            actor=user,
            slots=[rules.Slot(s.start, s.end) for s in body.slots],
            meeting_link=str(body.meeting_link),
            request_id=body.request_id,
            now=now,
        )
        count = len(body.slots)
        return f"{count} slot{'s' if count != 1 else ''} proposed; the customer picks one."

    return run_form(db=db, settings=settings, to=case_path(case, "screen-sharing"), run=run)


def _share_form(
    ref: str,
    share_id: int,
    db: Session,
    user: User,
    settings: Settings,
    act: Callable[[Case, ScreenShare], str],
) -> RedirectResponse:
    case = cases.get_case(db=db, viewer=user, ref=ref)

    def run() -> str:
        share = service.get_share(db=db, case=case, share_id=share_id)
        return act(case, share)

    return run_form(db=db, settings=settings, to=case_path(case, "screen-sharing"), run=run)


@router.post("/cases/{ref}/screen-shares/{share_id}/accept")
def accept(
    ref: str,
    share_id: ShareId,
    db: DbSession,
    user: PageUser,
    now: Now,
    settings: AppSettings,
    form: Form,
) -> RedirectResponse:
    def act(case: Case, share: ScreenShare) -> str:
        body = checked(AcceptIn, {"start": field(form, "start", 40)})
        service.accept(db=db, case=case, share=share, actor=user, start=body.start, now=now)
        return "Slot accepted: download the invitation for your calendar."

    return _share_form(ref, share_id, db, user, settings, act)


@router.post("/cases/{ref}/screen-shares/{share_id}/notes")
def notes(
    ref: str,
    share_id: ShareId,
    db: DbSession,
    user: PageUser,
    now: Now,
    settings: AppSettings,
    form: Form,
) -> RedirectResponse:
    def act(case: Case, share: ScreenShare) -> str:
        body = checked(NotesIn, {"notes": field(form, "notes")})
        service.record_notes(db=db, case=case, share=share, actor=user, notes=body.notes, now=now)
        return "Session notes recorded on the timeline."

    return _share_form(ref, share_id, db, user, settings, act)


@router.post("/cases/{ref}/screen-shares/{share_id}/cancel")
def cancel(
    ref: str,
    share_id: ShareId,
    db: DbSession,
    user: PageUser,
    now: Now,
    settings: AppSettings,
) -> RedirectResponse:
    def act(case: Case, share: ScreenShare) -> str:
        service.cancel(db=db, case=case, share=share, actor=user, now=now)
        return "Session cancelled."

    return _share_form(ref, share_id, db, user, settings, act)
