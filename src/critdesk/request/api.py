"""Info request routes: open, list, answer, cancel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter

from critdesk.auth.deps import CurrentUser
from critdesk.case import service as cases
from critdesk.request import service
from critdesk.request.schemas import (
    AnswerIn,
    CancelIn,
    RequestIn,
    RequestOut,
    RequestPage,
    request_view,
)
from critdesk.web import AppSettings, DbSession, Id, Now

router = APIRouter(prefix="/api/v1/cases/{ref}/requests", tags=["info requests"])


def _view(db: Any, user: Any, request: Any, now: Any) -> dict[str, Any]:
    ids = service.attachment_ids(db=db, requests=[request], viewer=user)
    return request_view(request, ids[request.id], now)


@router.get("", response_model=RequestPage)
def list_requests(ref: str, db: DbSession, user: CurrentUser, now: Now) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    requests = service.list_requests(db=db, case=case)
    ids = service.attachment_ids(db=db, requests=requests, viewer=user)
    return {"items": [request_view(r, ids[r.id], now) for r in requests], "next_cursor": None}


@router.post("", response_model=RequestOut, status_code=201)
def open_request(
    ref: str, body: RequestIn, db: DbSession, user: CurrentUser, now: Now, settings: AppSettings
) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    request = service.open_request(
        db=db,
        case=case,
        actor=user,
        kind=body.kind,
        message=body.message,
        details=body.details.model_dump(exclude_none=True),
        due_at=body.due_at,
        now=now,
        default_due=timedelta(hours=settings.info_request_due_hours),
    )
    return _view(db, user, request, now)


@router.get("/{request_id}", response_model=RequestOut)
def get_request(
    ref: str, request_id: Id, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    return _view(db, user, service.get_request(db=db, case=case, request_id=request_id), now)


@router.post("/{request_id}/answer", response_model=RequestOut)
def answer_request(
    ref: str, request_id: Id, body: AnswerIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    request = service.get_request(db=db, case=case, request_id=request_id)
    service.answer_request(
        db=db,
        case=case,
        request=request,
        actor=user,
        message=body.message,
        attachment_ids=body.attachment_ids,
        test_result=body.result,
        now=now,
    )
    return _view(db, user, request, now)


@router.post("/{request_id}/cancel", response_model=RequestOut)
def cancel_request(
    ref: str,
    request_id: Id,
    db: DbSession,
    user: CurrentUser,
    now: Now,
    body: CancelIn | None = None,
) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    request = service.get_request(db=db, case=case, request_id=request_id)
    service.cancel_request(
        db=db, case=case, request=request, actor=user, reason=body.reason if body else "", now=now
    )
    return _view(db, user, request, now)
