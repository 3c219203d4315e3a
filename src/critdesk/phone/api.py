"""Telephone intake routes: find the caller, record the call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from critdesk.auth.deps import CurrentUser
from critdesk.case import schemas as case_schemas
from critdesk.case import service as cases
from critdesk.phone import schemas, service
from critdesk.web import AppSettings, DbSession, Now

router = APIRouter(prefix="/api/v1/calls", tags=["telephone"])


@router.get("/contacts", response_model=list[schemas.ContactOut])
def find_contacts(
    db: DbSession,
    user: CurrentUser,
    settings: AppSettings,
    q: Annotated[str, Query(min_length=2, max_length=254)],
) -> list[dict[str, Any]]:
    """Named contacts matching a phone number (any written form), a name or an e-mail, each
    with whether their package has the telephone channel and their organisation's open cases."""
    found = service.find_contacts(db=db, actor=user, query=q, region=settings.phone_default_region)
    return [
        schemas.contact_view(c, service.open_cases(db=db, organisation_id=c.organisation_id or 0))
        for c in found
    ]


@router.post(
    "", response_model=schemas.CallOut, status_code=201, responses={200: {"model": schemas.CallOut}}
)
def record_call(
    body: schemas.CallIn,
    response: Response,
    db: DbSession,
    user: CurrentUser,
    now: Now,
    settings: AppSettings,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=180)] = None,
) -> dict[str, Any]:
    """Opens a case with channel ``phone`` on the caller's behalf (201), or adds the call's
    notes to ``case_ref``, a case of the caller's organisation (200)."""
    caller = service.resolve_caller(
        db=db,
        actor=user,
        caller_id=body.caller_id,
        caller=body.caller,
        region=settings.phone_default_region,
    )
    case, created = service.record_call(
        db=db, actor=user, caller=caller, call=body.to_call(idempotency_key), now=now
    )
    if not created:
        response.status_code = 200
    events = cases.timeline(db=db, viewer=user, case=case)
    return case_schemas.detail_view(case, events, now) | {"created": created}
