from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StrictBool, StringConstraints

from critdesk.auth.deps import CurrentUser
from critdesk.case import service as cases
from critdesk.case.schemas import PersonOut, person
from critdesk.comment import service
from critdesk.web import DbSession, Now, Page, encode_cursor

router = APIRouter(prefix="/api/v1/cases/{ref}/comments", tags=["comments"])


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)]
    internal: StrictBool = False


class CommentOut(BaseModel):
    id: int
    at: datetime
    author: PersonOut | None
    body: str
    internal: bool


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None


def _view(event: Any) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at,
        "author": person(event.actor),
        "body": event.message or "",
        "internal": event.internal,
    }


@router.get("", response_model=CommentPage)
def list_comments(ref: str, db: DbSession, user: CurrentUser, page: Page) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    rows, next_id = service.list_comments(
        db=db, case=case, viewer=user, limit=page.limit, after_id=page.cursor_int()
    )
    return {"items": [_view(r) for r in rows], "next_cursor": encode_cursor(next_id)}


@router.post("", response_model=CommentOut, status_code=201)
def add_comment(
    ref: str, body: CommentIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    event = service.add_comment(
        db=db, case=case, actor=user, body=body.body, internal=body.internal, now=now
    )
    return _view(event)
