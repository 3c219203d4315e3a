from __future__ import annotations

from fastapi import APIRouter, Response

from critdesk.auth.deps import CurrentUser
from critdesk.case.schemas import QueuePage, summary_view
from critdesk.queue import service
from critdesk.web import DbSession, Now, Page, encode_cursor, view_response

router = APIRouter(prefix="/api/v1/queue", tags=["queue"])


@router.get("", response_model=QueuePage)
def get_queue(db: DbSession, user: CurrentUser, now: Now, page: Page) -> Response:
    offset = page.cursor_int() or 0
    entries = service.queue(db=db, viewer=user, now=now, limit=page.limit, offset=offset)
    items = [
        summary_view(e.case, now)
        | {"score": e.score.value, "explanation": list(e.score.explanation)}
        for e in entries
    ]
    more = len(entries) == page.limit
    answer = {"items": items, "next_cursor": encode_cursor(offset + page.limit) if more else None}
    # The views hold every field of QueuePage's items (tests/queue holds the two to one JSON).
    return view_response(answer)
