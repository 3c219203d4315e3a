"""Token issuing and the caller's own profile."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StringConstraints

from critdesk.auth import service
from critdesk.auth.deps import CurrentUser
from critdesk.errors import error_body
from critdesk.organisation.schemas import OrganisationOut, organisation_view
from critdesk.web import AppSettings, DbSession, Now

router = APIRouter(prefix="/api/v1", tags=["auth"])


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class TokenOut(BaseModel):
    token: str


class MeOut(BaseModel):
    email: str
    name: str
    role: str
    organisation: OrganisationOut | None


@router.post("/auth/token", response_model=TokenOut, status_code=201)
def create_token(
    body: TokenIn, request: Request, db: DbSession, now: Now, settings: AppSettings
) -> Any:
    user = service.login(
        db=db,
        email=body.email,
        password=body.password,
        now=now,
        remote_addr=request.client.host if request.client else None,
        max_failures=settings.login_max_failures,
        window=timedelta(minutes=settings.login_failure_window_minutes),
    )
    if user is None:
        # Returned, not raised: the failed attempt must be committed for throttling.
        return JSONResponse(
            error_body("invalid_credentials", "e-mail or password is wrong"), status_code=401
        )
    return {"token": service.issue_token(db=db, user=user, name="api", now=now)}


@router.get("/me", response_model=MeOut)
def me(user: CurrentUser) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "organisation": organisation_view(user.organisation) if user.organisation else None,
    }
