"""The engineer queue page: open cases by score, each with a live SLA countdown.

``/queue/rows`` is the table body alone, fetched every 30 s by static/app.js so that the
queue stays current without reloading the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from critdesk.auth.models import User
from critdesk.auth.pages import PageUser
from critdesk.case.schemas import summary_view
from critdesk.queue import service
from critdesk.queue.service import QueueEntry
from critdesk.templating import render, render_fragment
from critdesk.web import DbSession, Now

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
PageNumber = Annotated[int, Query(ge=1, le=1000)]


def queue_rows(entries: list[QueueEntry], now: datetime) -> list[dict[str, Any]]:
    return [
        summary_view(entry.case, now)
        | {
            "package": entry.case.package.name,
            "score": entry.score.value,
            "explanation": list(entry.score.explanation),
        }
        for entry in entries
    ]


def queue_context(*, db: Any, viewer: User, now: datetime, page: int) -> dict[str, Any]:
    offset = (page - 1) * PAGE_SIZE
    entries = service.queue(db=db, viewer=viewer, now=now, limit=PAGE_SIZE, offset=offset)
    return {
        "page_title": "Queue",
        "rows": queue_rows(entries, now),
        "page": page,
        "offset": offset,
        "has_more": len(entries) == PAGE_SIZE,
    }


@router.get("/queue")
def queue_page(
    request: Request, db: DbSession, user: PageUser, now: Now, page: PageNumber = 1
) -> HTMLResponse:
    context = queue_context(db=db, viewer=user, now=now, page=page)
    return render(request, "queue/index.html", context)


@router.get("/queue/rows")
def queue_rows_fragment(
    request: Request, db: DbSession, user: PageUser, now: Now, page: PageNumber = 1
) -> HTMLResponse:
    context = queue_context(db=db, viewer=user, now=now, page=page)
    return render_fragment(request, "queue/_rows.html", context)
