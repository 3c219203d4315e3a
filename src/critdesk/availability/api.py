"""Availability route: is the desk open for this package now, and when does it open next."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from critdesk.auth.deps import CurrentUser
from critdesk.availability import service
from critdesk.web import MAX_ID, DbSession, Now

router = APIRouter(prefix="/api/v1/availability", tags=["availability"])


class PackageRef(BaseModel):
    code: str
    name: str


class AvailabilityOut(BaseModel):
    organisation_id: int
    open_now: bool
    package: PackageRef
    desk_access: bool
    hours: str | None
    timezone: str
    next_open_at: datetime | None
    closes_at: datetime | None
    phone_number: str | None
    channels: list[str]
    message: str


@router.get("", response_model=AvailabilityOut)
def availability(
    db: DbSession,
    user: CurrentUser,
    now: Now,
    organisation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> dict[str, Any]:
    """For a customer, their package; for staff, ``?organisation_id=``. ``next_open_at`` (when
    closed) is when the SLA clock of a case reported now would start."""
    return service.availability_for(db=db, viewer=user, organisation_id=organisation_id, now=now)
