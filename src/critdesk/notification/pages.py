"""Notification pages: the in-app inbox (mark one or all read), the user's channel
preferences, and the admin's deliveries (failed and dead e-mails and webhooks, with retry)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from critdesk.auth.pages import Form, PageUser
from critdesk.case.pages import run_form
from critdesk.notification import rules, service
from critdesk.notification.models import STATES
from critdesk.templating import label, render
from critdesk.web import AppSettings, DbSession, Id, Now, Pagination, encode_cursor

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30


def _cursor(cursor: str | None) -> int | None:
    return Pagination(limit=PAGE_SIZE, cursor=cursor).cursor_int()


@router.get("/notifications", response_class=HTMLResponse)
def inbox(
    request: Request,
    db: DbSession,
    user: PageUser,
    unread: bool = False,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    items, next_id = service.inbox(
        db=db, user=user, unread_only=unread, limit=PAGE_SIZE, before_id=_cursor(cursor)
    )
    return render(
        request,
        "notification/inbox.html",
        {
            "page_title": "Notifications",
            "items": items,
            "unread_only": unread,
            "unread": service.unread_count(db=db, user=user),
            "next_cursor": encode_cursor(next_id),
        },
    )


@router.post("/notifications/read-all")
def read_all(db: DbSession, user: PageUser, now: Now, settings: AppSettings) -> RedirectResponse:
    def run() -> str:
        count = service.mark_read(db=db, user=user, notification_id=None, now=now)
        return f"Marked {count} notification{'s' if count != 1 else ''} read."

    return run_form(db=db, settings=settings, to="/notifications", run=run)


@router.post("/notifications/{notification_id}/read")
def read_one(
    notification_id: Id, db: DbSession, user: PageUser, now: Now, settings: AppSettings
) -> RedirectResponse:
    def run() -> str:
        service.mark_read(db=db, user=user, notification_id=notification_id, now=now)
        return "Marked read."

    return run_form(db=db, settings=settings, to="/notifications", run=run)


@router.get("/notifications/preferences", response_class=HTMLResponse)
def preferences(request: Request, db: DbSession, user: PageUser) -> HTMLResponse:
    rows: dict[str, dict[str, Any]] = {}
    for choice in service.preferences(db=db, user=user):
        rows.setdefault(choice["kind"], {"kind": choice["kind"]})[choice["channel"]] = choice
    return render(
        request,
        "notification/preferences.html",
        {
            "page_title": "Notification preferences",
            "rows": list(rows.values()),
            "channels": rules.USER_CHANNELS,
        },
    )


@router.post("/notifications/preferences")
def save_preferences(
    db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> RedirectResponse:
    """Every kind × channel is on the form: a ticked box is on, an absent one is off."""

    def run() -> str:
        ticked = set(form.keys())
        choices = [
            (kind, channel, f"{kind}:{channel}" in ticked)
            for kind in sorted(rules.NOTIFIABLE)
            for channel in rules.USER_CHANNELS
        ]
        service.set_preferences(db=db, user=user, choices=choices, now=now)
        return "Preferences saved."

    return run_form(db=db, settings=settings, to="/notifications/preferences", run=run)


@router.get("/admin/notifications", response_class=HTMLResponse)
def deliveries(
    request: Request,
    db: DbSession,
    user: PageUser,
    state: Annotated[str | None, Query(max_length=20)] = "dead",
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    chosen = state or None  # list_deliveries refuses an unknown state
    rows, next_id = service.list_deliveries(
        db=db,
        actor=user,
        state=chosen,
        channel=None,
        limit=PAGE_SIZE,
        before_id=_cursor(cursor),
    )
    return render(
        request,
        "notification/deliveries.html",
        {
            "page_title": "Deliveries",
            "rows": rows,
            "state": chosen or "",
            "states": STATES,
            "next_cursor": encode_cursor(next_id),
            "state_label": label,
        },
    )


@router.post("/admin/notifications/{notification_id}/retry")
def retry(
    notification_id: Id, db: DbSession, user: PageUser, now: Now, settings: AppSettings
) -> RedirectResponse:
    def run() -> str:
        service.retry(db=db, actor=user, notification_id=notification_id, now=now)
        return "Queued for another attempt."

    return run_form(db=db, settings=settings, to="/admin/notifications", run=run)
