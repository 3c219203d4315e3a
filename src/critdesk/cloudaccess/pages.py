"""Cloud access on the case page: for a cloud environment only, the engineer opens a time-boxed,
justified access, records each use, and the engineer, a lead or the customer's admin revokes
it. On-premises and Gateway environments show why engineers never log in there instead."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from critdesk.auth.models import User
from critdesk.auth.pages import Form, PageUser, field
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.case.pages import case_path, checked, page_zone, run_form
from critdesk.case.rules import OPEN_STATES
from critdesk.cloudaccess import service
from critdesk.cloudaccess.api import CloudAccessIn, UseIn
from critdesk.cloudaccess.models import CloudAccess
from critdesk.config import Settings
from critdesk.errors import Invalid
from critdesk.templating import format_time
from critdesk.web import MAX_ID, AppSettings, DbSession, Now

router = APIRouter(include_in_schema=False)

AccessId = Annotated[int, Path(ge=1, le=MAX_ID)]
MINUTES = (15, 30, 60, 120, 240, 480)


def access_view(access: CloudAccess, viewer: User, now: datetime) -> dict[str, Any]:
    status = service.status(access, now)
    return {
        "id": access.id,
        "engineer": access.engineer.name,
        "justification": access.justification,
        "opened_at": access.opened_at,
        "expires_at": access.expires_at,
        "revoked_at": access.revoked_at,
        "status": status,
        "uses": access.uses,
        "can_use": status == "active" and access.engineer_id == viewer.id,
        "can_revoke": status == "active"
        and (viewer.role == "customer_admin" or viewer.role in cases.HANDLER_ROLES),
    }


def cloud_panel(
    *, db: Session, viewer: User, case: Case, now: datetime, settings: Settings
) -> dict[str, Any] | None:
    """None for a customer's plain contacts: their organisation's admin sees cloud access."""
    if viewer.is_customer and viewer.role != "customer_admin":
        return None
    environment = case.environment
    if environment.type != "cloud":
        kind = environment.type.replace("_", "-")
        return {"refused": service.NOT_CLOUD.format(name=environment.name, kind=kind)}
    handler = viewer.role in cases.HANDLER_ROLES
    return {
        "refused": None,
        "environment": environment.name,
        "items": [
            access_view(a, viewer, now) for a in reversed(service.list_access(db=db, case=case))
        ],
        "can_open": handler and case.state in OPEN_STATES,
        "minutes": [m for m in MINUTES if m <= settings.cloud_access_max_minutes],
    }


@router.post("/cases/{ref}/cloud-access")
def open_access(
    ref: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> RedirectResponse:
    case = cases.get_case(db=db, viewer=user, ref=ref)

    def run() -> str:
        minutes = field(form, "minutes", 5)
        if not (minutes.isascii() and minutes.isdigit()):
            raise Invalid("invalid_minutes", "choose how long the access lasts")
        body = checked(
            CloudAccessIn,
            {"justification": field(form, "justification", 5000), "minutes": int(minutes)},
        )
        access = service.open_access(
            db=db,
            case=case,
            actor=user,
            justification=body.justification,
            minutes=body.minutes,
            now=now,
            max_minutes=settings.cloud_access_max_minutes,
        )
        until = format_time(access.expires_at, page_zone(user), "%H:%M %Z")
        return (
            f"Cloud access to {case.environment.name} open for {body.minutes} minutes "
            f"(until {until}); every use is audited."
        )

    return run_form(db=db, settings=settings, to=case_path(case, "cloud-access"), run=run)


def _access_form(
    ref: str,
    access_id: int,
    db: Session,
    user: User,
    settings: Settings,
    act: Callable[[Case, CloudAccess], str],
) -> RedirectResponse:
    case = cases.get_case(db=db, viewer=user, ref=ref)

    def run() -> str:
        return act(case, service.get_access(db=db, case=case, access_id=access_id))

    return run_form(db=db, settings=settings, to=case_path(case, "cloud-access"), run=run)


@router.post("/cases/{ref}/cloud-access/{access_id}/use")
def record_use(
    ref: str,
    access_id: AccessId,
    db: DbSession,
    user: PageUser,
    now: Now,
    settings: AppSettings,
    form: Form,
) -> RedirectResponse:
    def act(case: Case, access: CloudAccess) -> str:
        body = checked(UseIn, {"note": field(form, "note", 2000)})
        service.record_use(db=db, case=case, access=access, actor=user, note=body.note, now=now)
        return f"Use {access.uses} recorded on the audit trail."

    return _access_form(ref, access_id, db, user, settings, act)


@router.post("/cases/{ref}/cloud-access/{access_id}/revoke")
def revoke(
    ref: str,
    access_id: AccessId,
    db: DbSession,
    user: PageUser,
    now: Now,
    settings: AppSettings,
) -> RedirectResponse:
    def act(case: Case, access: CloudAccess) -> str:
        service.revoke(db=db, case=case, access=access, actor=user, now=now)
        return "Cloud access revoked."

    return _access_form(ref, access_id, db, user, settings, act)
