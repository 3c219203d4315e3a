"""Support package catalogue: read, create and edit (admins), and each package's calendar."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from critdesk.audit import service as audit
from critdesk.auth.models import User
from critdesk.calendar.rules import Calendar, CalendarSpecError
from critdesk.case.models import Case
from critdesk.case.rules import CHANNELS, SEVERITIES
from critdesk.errors import Forbidden, Invalid, NotFound
from critdesk.package.models import SupportPackage


@lru_cache(maxsize=256)
def _calendar_from_json(spec_json: str) -> Calendar:
    return Calendar.from_spec(json.loads(spec_json))


def calendar_of(package: SupportPackage) -> Calendar:
    """The package's calendar, parsed once per distinct spec."""
    return _calendar_from_json(json.dumps(package.calendar, sort_keys=True))


def list_packages(*, db: Session) -> list[SupportPackage]:
    return list(db.scalars(select(SupportPackage).order_by(SupportPackage.id)))


def get_package(*, db: Session, code_or_id: str | int) -> SupportPackage:
    column = SupportPackage.id if isinstance(code_or_id, int) else SupportPackage.code
    package = db.scalar(select(SupportPackage).where(column == code_or_id))
    if package is None:
        raise NotFound("package")
    return package


def validate_fields(fields: dict[str, Any]) -> None:
    """Refuses a package definition that the SLA and queue rules could not work with."""
    if "calendar" in fields:
        try:
            Calendar.from_spec(fields["calendar"])
        except CalendarSpecError as error:
            raise Invalid("invalid_calendar", str(error)) from error
    unknown = set(fields.get("channels", ())) - set(CHANNELS)
    if unknown:
        raise Invalid("invalid_channel", f"unknown channels {sorted(unknown)}; use {CHANNELS}")
    targets = fields.get("sla_targets", {})
    if set(targets) - set(SEVERITIES) or any(int(v) <= 0 for v in targets.values()):
        raise Invalid("invalid_sla_targets", "sla_targets maps S1..S4 to positive seconds")
    if fields.get("desk_access") and set(targets) != set(SEVERITIES):
        raise Invalid("invalid_sla_targets", "a package with desk access needs targets for S1..S4")


def _require_admin(actor: User | None) -> None:
    if actor is not None and actor.role != "admin":
        raise Forbidden("admin_only", "only an admin may change the package catalogue")


def create_package(
    *, db: Session, actor: User | None, now: datetime, **fields: Any
) -> SupportPackage:
    _require_admin(actor)
    validate_fields(fields)
    if db.scalar(select(SupportPackage.id).where(SupportPackage.code == fields["code"])):
        raise Invalid("code_taken", f"a package with code {fields['code']!r} already exists")
    package = SupportPackage(created_at=now, updated_at=now, **fields)
    db.add(package)
    db.flush()
    audit.record(
        db=db,
        at=now,
        actor_id=actor.id if actor else None,
        action="package.created",
        object_type="package",
        object_id=package.id,
        data={"code": package.code},
    )
    return package


def update_package(
    *, db: Session, actor: User | None, package: SupportPackage, now: datetime, **changes: Any
) -> SupportPackage:
    _require_admin(actor)
    merged = {"desk_access": package.desk_access, "sla_targets": package.sla_targets, **changes}
    validate_fields(merged | {k: v for k, v in changes.items() if k != "desk_access"})
    before = {key: getattr(package, key) for key in changes}
    for key, value in changes.items():
        setattr(package, key, value)
    package.updated_at = now
    if "queue_weight" in changes:
        # The weight orders the queue as it stands: the package's open cases take the new one
        # at once (a case keeps its SLA target, a promise made when it was reported). The queue
        # reads each (severity, package) slice in score order, which holds while one weight
        # applies to all its cases (queue.service).
        db.execute(
            update(Case)
            .where(Case.package_id == package.id, Case.queue_group.is_not(None))
            .values(queue_weight=changes["queue_weight"])
        )
    audit.record(
        db=db,
        at=now,
        actor_id=actor.id if actor else None,
        action="package.updated",
        object_type="package",
        object_id=package.id,
        data={"before": before, "after": changes},
    )
    return package
