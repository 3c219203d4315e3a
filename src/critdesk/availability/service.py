"""Availability of the desk for an organisation's package, as the customer and staff see it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from critdesk.auth.models import User
from critdesk.availability import rules
from critdesk.case.service import can_see_organisation, describe_channels
from critdesk.errors import Invalid, NotFound
from critdesk.organisation.models import Organisation
from critdesk.package.models import SupportPackage
from critdesk.package.service import calendar_of


def organisation_for(*, db: Session, viewer: User, organisation_id: int | None) -> Organisation:
    """A customer's own organisation; for staff, the one asked for (if they may see it)."""
    if viewer.is_customer:
        if viewer.organisation is None or organisation_id not in (None, viewer.organisation_id):
            raise NotFound("organisation")
        return viewer.organisation
    if organisation_id is None:
        raise Invalid("organisation_required", "staff ask for one organisation: ?organisation_id=")
    organisation = db.get(Organisation, organisation_id)
    if organisation is None or not can_see_organisation(viewer, organisation):
        raise NotFound("organisation")
    return organisation


def package_availability(package: SupportPackage, now: datetime) -> dict[str, Any]:
    """Open now? When next? How to reach the desk: the banner's and the API's facts."""
    calendar = calendar_of(package)
    state = (
        rules.availability(calendar, now)
        if package.desk_access
        else rules.Availability(open_now=False, next_open_at=None, closes_at=None)
    )
    phone = package.phone_number if "phone" in package.channels else None
    return {
        "open_now": state.open_now,
        "package": {"code": package.code, "name": package.name},
        "desk_access": package.desk_access,
        "hours": calendar.describe() if package.desk_access else None,
        "timezone": calendar.timezone,
        "next_open_at": state.next_open_at,
        "closes_at": state.closes_at,
        "phone_number": phone if package.desk_access else None,
        "channels": list(package.channels),
        "message": _message(package, state, calendar.timezone, now),
    }


def _message(
    package: SupportPackage, state: rules.Availability, timezone: str, now: datetime
) -> str:
    if not package.desk_access:
        return (
            f"Your {package.name} package does not include the critical-issue desk; "
            f"please use the ordinary Support Helpdesk on {describe_channels(package)}"
        )
    return rules.headline(state, timezone, now)


def availability_for(
    *, db: Session, viewer: User, organisation_id: int | None, now: datetime
) -> dict[str, Any]:
    organisation = organisation_for(db=db, viewer=viewer, organisation_id=organisation_id)
    return {"organisation_id": organisation.id} | package_availability(organisation.package, now)
