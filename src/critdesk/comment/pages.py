"""The conversation on the case page: comments for both sides, and the engineers' internal notes
(styled apart, and never in a customer's page)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from critdesk.auth.models import User
from critdesk.auth.pages import Form, PageUser, field
from critdesk.case import service as cases
from critdesk.case.models import Case, CaseEvent
from critdesk.case.pages import case_path, checked, run_form
from critdesk.comment import service
from critdesk.comment.api import CommentIn
from critdesk.web import AppSettings, DbSession, Now

router = APIRouter(include_in_schema=False)

MAX_SHOWN = 500
CHECKED = frozenset({"on", "true", "1", "yes"})


def comment_view(event: CaseEvent, viewer: User) -> dict[str, Any]:
    author = event.actor
    return {
        "id": event.id,
        "at": event.at,
        "author": author.name if author else "critdesk",
        "from_vendor": author is not None and author.is_staff,
        "mine": author is not None and author.id == viewer.id,
        "body": event.message or "",
        "internal": event.internal,
    }


def case_comments(*, db: Session, viewer: User, case: Case) -> list[CaseEvent]:
    """The case's comments the viewer may read (internal notes only for vendor staff)."""
    found, _more = service.list_comments(
        db=db, case=case, viewer=viewer, limit=MAX_SHOWN, after_id=None
    )
    return found


def conversation_panel(*, comments: list[CaseEvent], viewer: User) -> dict[str, Any]:
    handler = viewer.role in cases.HANDLER_ROLES
    return {
        "items": [comment_view(c, viewer) for c in comments],
        "can_write": viewer.is_customer or viewer.is_staff,
        # Account managers read along and may leave internal notes, not write to the customer.
        "can_note": viewer.is_staff,
        "notes_only": viewer.is_staff and not handler,
    }


@router.post("/cases/{ref}/comments")
def add_comment(
    ref: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> RedirectResponse:
    case = cases.get_case(db=db, viewer=user, ref=ref)

    def write() -> str:
        internal = field(form, "internal", 10).lower() in CHECKED
        body = checked(CommentIn, {"body": field(form, "body"), "internal": internal})
        service.add_comment(
            db=db, case=case, actor=user, body=body.body, internal=body.internal, now=now
        )
        return "Internal note added (engineers only)." if body.internal else "Comment sent."

    return run_form(db=db, settings=settings, to=case_path(case, "conversation"), run=write)
