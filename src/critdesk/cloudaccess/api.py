from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StrictInt, StringConstraints

from critdesk.auth.deps import CurrentUser
from critdesk.case import service as cases
from critdesk.case.schemas import PersonOut, person
from critdesk.cloudaccess import service
from critdesk.cloudaccess.models import CloudAccess
from critdesk.web import AppSettings, DbSession, Id, Now

router = APIRouter(prefix="/api/v1/cases/{ref}/cloud-access", tags=["cloud access"])


class CloudAccessIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    justification: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)
    ]
    minutes: StrictInt


class UseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class CloudAccessOut(BaseModel):
    id: int
    environment_id: int
    engineer: PersonOut
    justification: str
    opened_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    status: str
    uses: int


def _view(access: CloudAccess, now: datetime) -> dict[str, Any]:
    return {
        "id": access.id,
        "environment_id": access.environment_id,
        "engineer": person(access.engineer),
        "justification": access.justification,
        "opened_at": access.opened_at,
        "expires_at": access.expires_at,
        "revoked_at": access.revoked_at,
        "status": service.status(access, now),
        "uses": access.uses,
    }


@router.get("", response_model=list[CloudAccessOut])
def list_access(ref: str, db: DbSession, user: CurrentUser, now: Now) -> list[dict[str, Any]]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    service.require_viewer(case, user)
    return [_view(a, now) for a in service.list_access(db=db, case=case)]


@router.post("", response_model=CloudAccessOut, status_code=201)
def open_access(
    ref: str, body: CloudAccessIn, db: DbSession, user: CurrentUser, now: Now, settings: AppSettings
) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    access = service.open_access(
        db=db,
        case=case,
        actor=user,
        justification=body.justification,
        minutes=body.minutes,
        now=now,
        max_minutes=settings.cloud_access_max_minutes,
    )
    return _view(access, now)


@router.post("/{access_id}/use", response_model=CloudAccessOut)
def use(
    ref: str, access_id: Id, body: UseIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    access = service.get_access(db=db, case=case, access_id=access_id)
    return _view(
        service.record_use(db=db, case=case, access=access, actor=user, note=body.note, now=now),
        now,
    )


@router.post("/{access_id}/revoke", response_model=CloudAccessOut)
def revoke(ref: str, access_id: Id, db: DbSession, user: CurrentUser, now: Now) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    access = service.get_access(db=db, case=case, access_id=access_id)
    return _view(service.revoke(db=db, case=case, access=access, actor=user, now=now), now)
