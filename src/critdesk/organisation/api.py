from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from critdesk.auth import service as auth
from critdesk.auth.deps import CurrentUser
from critdesk.organisation import service
from critdesk.organisation.schemas import (
    EnvironmentIn,
    EnvironmentOut,
    OrganisationIn,
    OrganisationOut,
    UserIn,
    UserOut,
    environment_view,
    organisation_view,
)
from critdesk.web import DbSession, Id, Now

router = APIRouter(prefix="/api/v1/organisations", tags=["organisations"])


def _user_view(user: Any) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "phone": user.phone,
    }


@router.get("", response_model=list[OrganisationOut])
def list_organisations(db: DbSession, user: CurrentUser) -> list[dict[str, Any]]:
    return [organisation_view(o) for o in service.list_organisations(db=db, actor=user)]


@router.post("", response_model=OrganisationOut, status_code=201)
def create_organisation(
    body: OrganisationIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    org = service.create_organisation(
        db=db, actor=user, name=body.name, package_code=body.package, now=now
    )
    return organisation_view(
        service.visible_organisation(db=db, actor=user, organisation_id=org.id)
    )


@router.get("/{organisation_id}", response_model=OrganisationOut)
def get_organisation(organisation_id: Id, db: DbSession, user: CurrentUser) -> dict[str, Any]:
    return organisation_view(
        service.visible_organisation(db=db, actor=user, organisation_id=organisation_id)
    )


@router.get("/{organisation_id}/environments", response_model=list[EnvironmentOut])
def list_environments(
    organisation_id: Id, db: DbSession, user: CurrentUser
) -> list[dict[str, Any]]:
    org = service.visible_organisation(db=db, actor=user, organisation_id=organisation_id)
    return [environment_view(e) for e in org.environments]


@router.post("/{organisation_id}/environments", response_model=EnvironmentOut, status_code=201)
def create_environment(
    organisation_id: Id, body: EnvironmentIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    org = service.visible_organisation(db=db, actor=user, organisation_id=organisation_id)
    env = service.create_environment(
        db=db, actor=user, organisation=org, now=now, **body.model_dump()
    )
    return environment_view(env)


@router.get("/{organisation_id}/users", response_model=list[UserOut])
def list_users(organisation_id: Id, db: DbSession, user: CurrentUser) -> list[dict[str, Any]]:
    org = service.visible_organisation(db=db, actor=user, organisation_id=organisation_id)
    return [_user_view(u) for u in service.list_users(db=db, actor=user, organisation=org)]


@router.post("/{organisation_id}/users", response_model=UserOut, status_code=201)
def create_user(
    organisation_id: Id, body: UserIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    org = service.visible_organisation(db=db, actor=user, organisation_id=organisation_id)
    service.require_admin(user)
    created = auth.create_user(
        db=db,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        organisation_id=org.id,
        now=now,
        actor_id=user.id,
        phone=body.phone,
    )
    return _user_view(created)
