"""Cloud access: on a cloud environment only, time-boxed, justified, and audited at every step.

Engineers log into the vendor's cloud systems for that customer — never into the customer's
application. On-premises and Gateway deployments are the customer's own systems: engineers
never log into them, so the desk refuses and points to info requests instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from critdesk.audit import service as audit
from critdesk.auth.models import User
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.case.rules import OPEN_STATES
from critdesk.cloudaccess.models import CloudAccess
from critdesk.errors import Conflict, Forbidden, Invalid, NotFound

NOT_CLOUD = (
    "{name} is a {kind} deployment: engineers never log into the customer's own systems. "
    "Ask the customer instead with an info request (questions, tests, logs, exports or a "
    "screen-sharing session)."
)


def status(access: CloudAccess, now: datetime) -> str:
    if access.revoked_at is not None:
        return "revoked"
    return "active" if now < access.expires_at else "expired"


def _audit(
    db: Session,
    case: Case,
    actor: User | None,
    now: datetime,
    action: str,
    access: CloudAccess,
    **data: object,
) -> None:
    audit.record(
        db=db,
        at=now,
        actor_id=actor.id if actor else None,
        action=f"cloud_access.{action}",
        object_type="cloud_access",
        object_id=access.id,
        organisation_id=case.organisation_id,
        data={"case": case.ref, "environment_id": access.environment_id, **data},
    )


def open_access(
    *,
    db: Session,
    case: Case,
    actor: User,
    justification: str,
    minutes: int,
    now: datetime,
    max_minutes: int,
) -> CloudAccess:
    if actor.role not in cases.HANDLER_ROLES:
        raise Forbidden("engineers_only", "only engineers and leads open cloud access")
    environment = case.environment
    if environment.type != "cloud":
        kind = environment.type.replace("_", "-")
        raise Conflict("not_cloud", NOT_CLOUD.format(name=environment.name, kind=kind))
    if case.state not in OPEN_STATES:
        raise Conflict("case_not_open", f"the case is {case.state}; no access is needed")
    if len(justification.strip()) < 10:
        raise Invalid("justification_required", "justify the access in a sentence")
    if not 5 <= minutes <= max_minutes:
        raise Invalid("invalid_minutes", f"access lasts between 5 and {max_minutes} minutes")
    access = CloudAccess(
        case_id=case.id,
        environment_id=environment.id,
        engineer_id=actor.id,
        justification=justification.strip(),
        opened_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    access.engineer = actor
    db.add(access)
    db.flush()
    _audit(
        db, case, actor, now, "opened", access, minutes=minutes, justification=access.justification
    )
    cases.record_event(
        db=db,
        case=case,
        actor=actor,
        now=now,
        kind="cloud_access_opened",
        message=access.justification,
        data={
            "cloud_access": access.id,
            "environment": environment.name,
            "expires_at": access.expires_at.isoformat(),
        },
    )
    return access


def get_access(*, db: Session, case: Case, access_id: int) -> CloudAccess:
    access = db.get(CloudAccess, access_id)
    if access is None or access.case_id != case.id:
        raise NotFound("cloud access")
    return access


def require_viewer(case: Case, viewer: User) -> None:
    """Staff handling cases and the customer's admin see the access record; plain contacts not."""
    if viewer.is_customer and viewer.role != "customer_admin":
        raise Forbidden("customer_admin_only", "your organisation's admin sees cloud access")


def list_access(*, db: Session, case: Case) -> list[CloudAccess]:
    return list(
        db.scalars(
            select(CloudAccess).where(CloudAccess.case_id == case.id).order_by(CloudAccess.id)
        )
    )


def record_use(
    *, db: Session, case: Case, access: CloudAccess, actor: User, note: str, now: datetime
) -> CloudAccess:
    """Each use is audited; only the engineer holding the access, and only while active."""
    if actor.id != access.engineer_id:
        raise Forbidden("not_holder", "only the engineer who opened the access may use it")
    current = status(access, now)
    if current != "active":
        raise Conflict(f"cloud_access_{current}", f"this cloud access is {current}")
    access.uses += 1
    _audit(db, case, actor, now, "used", access, note=note.strip(), use=access.uses)
    return access


def revoke(
    *, db: Session, case: Case, access: CloudAccess, actor: User, now: datetime
) -> CloudAccess:
    """The engineer, a lead, or the customer's admin ends the access early."""
    if actor.is_customer and actor.role != "customer_admin":
        raise Forbidden("customer_admin_only", "your organisation's admin may revoke access")
    if not actor.is_customer and actor.role not in cases.HANDLER_ROLES:
        raise Forbidden("engineers_only", "only engineers, leads or the customer's admin revoke")
    if status(access, now) != "active":
        raise Conflict("cloud_access_not_active", f"this cloud access is {status(access, now)}")
    access.revoked_at = now
    _audit(db, case, actor, now, "revoked", access)
    cases.record_event(
        db=db,
        case=case,
        actor=actor,
        now=now,
        kind="cloud_access_revoked",
        data={"cloud_access": access.id},
    )
    return access


def record_expiries(*, db: Session, now: datetime, limit: int = 500) -> int:
    """The sweep: each expired access gets exactly one expiry record, claimed atomically."""
    due = db.scalars(
        select(CloudAccess.id)
        .where(
            CloudAccess.expires_at <= now,
            CloudAccess.expiry_recorded_at.is_(None),
            CloudAccess.revoked_at.is_(None),
        )
        .limit(limit)
    ).all()
    recorded = 0
    for access_id in due:
        claimed = db.execute(
            update(CloudAccess)
            .where(CloudAccess.id == access_id, CloudAccess.expiry_recorded_at.is_(None))
            .values(expiry_recorded_at=now)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            continue
        access = db.get(CloudAccess, access_id)
        assert access is not None
        case = cases.load_case(db, access.case_id)
        _audit(db, case, None, now, "expired", access, expired_at=access.expires_at.isoformat())
        cases.record_event(
            db=db,
            case=case,
            actor=None,
            now=now,
            kind="cloud_access_expired",
            data={"cloud_access": access.id},
        )
        recorded += 1
    return recorded
