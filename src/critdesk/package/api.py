from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from critdesk.auth.deps import CurrentUser
from critdesk.package import service
from critdesk.package.schemas import PackageIn, PackageOut, PackageUpdate, package_view
from critdesk.web import DbSession, Now

router = APIRouter(prefix="/api/v1/packages", tags=["packages"])


@router.get("", response_model=list[PackageOut])
def list_packages(db: DbSession, user: CurrentUser) -> list[dict[str, Any]]:
    return [package_view(p) for p in service.list_packages(db=db)]


@router.post("", response_model=PackageOut, status_code=201)
def create_package(body: PackageIn, db: DbSession, user: CurrentUser, now: Now) -> dict[str, Any]:
    package = service.create_package(db=db, actor=user, now=now, **body.model_dump())
    return package_view(package)


@router.patch("/{code}", response_model=PackageOut)
def update_package(
    code: str, body: PackageUpdate, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    package = service.get_package(db=db, code_or_id=code)
    changes = body.model_dump(exclude_unset=True)
    return package_view(
        service.update_package(db=db, actor=user, package=package, now=now, **changes)
    )
