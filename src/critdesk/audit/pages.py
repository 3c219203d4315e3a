"""The access log page (``/access-log``): for a customer's admin, who at the vendor viewed,
downloaded or used access to their organisation's cases and files; the vendor's admins pick
an organisation. Filters by case and by day, in the viewer's time zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from critdesk.audit import access
from critdesk.auth.models import User
from critdesk.auth.pages import PageUser
from critdesk.case.pages import page_zone
from critdesk.errors import Invalid
from critdesk.organisation.models import Organisation
from critdesk.templating import label, render
from critdesk.web import DbSession, Pagination, encode_cursor

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
Text = Annotated[str, Query(max_length=100)]


def _day(text: str, zone: str, what: str, *, end: bool = False) -> datetime | None:
    """A ``date`` input as the start of that day (or of the next, for an end) in ``zone``."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as error:
        raise Invalid("invalid_date", f"{what}: enter a date") from error
    if not 1900 <= day.year <= 9000:
        raise Invalid("invalid_date", f"{what}: enter a date between 1900 and 9000")
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone))


def _small_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 12


def _organisations(db: Session, viewer: User) -> list[dict[str, Any]]:
    if viewer.role != "admin":
        return []
    rows = db.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name))
    return [{"id": row.id, "name": row.name} for row in rows]


def access_log_context(
    *, db: Session, viewer: User, values: dict[str, str], cursor: str | None
) -> dict[str, Any]:
    """The page's plain context: the rows, the filters as typed, the next page's link."""
    zone = page_zone(viewer)
    organisation = values["organisation"].strip()
    filters = access.AccessFilters(
        organisation_id=int(organisation) if _small_number(organisation) else None
    )
    error = None
    try:
        filters = access.checked(
            replace(
                filters,
                case_ref=values["case"].strip() or None,
                since=_day(values["from"], zone, "From"),
                until=_day(values["to"], zone, "To", end=True),
            )
        )
    except Invalid as problem:  # the page still lists, without the filter it could not read
        error = problem.message
    before = Pagination(limit=PAGE_SIZE, cursor=cursor).cursor_int()
    items, next_id = access.access_log(
        db=db, viewer=viewer, filters=filters, limit=PAGE_SIZE, before_id=before
    )
    query = {k: v for k, v in values.items() if v}
    next_cursor = encode_cursor(next_id)
    return {
        "page_title": "Access log",
        "rows": [
            item
            | {"what": access.ACTION_LABELS[item["action"]], "role": label(item["who"]["role"])}
            for item in items
        ],
        "filters": values,
        "error": error,
        "organisations": _organisations(db, viewer),
        "first_url": "/access-log" + (f"?{urlencode(query)}" if query else ""),
        "next_url": f"/access-log?{urlencode(query | {'cursor': next_cursor})}"
        if next_cursor
        else None,
        "paged": cursor is not None,
    }


@router.get("/access-log")
def access_log_page(
    request: Request,
    db: DbSession,
    user: PageUser,
    case: Text = "",
    since: Annotated[str, Query(alias="from", max_length=20)] = "",
    until: Annotated[str, Query(alias="to", max_length=20)] = "",
    organisation: Annotated[str, Query(max_length=20)] = "",
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    access.scope(db=db, viewer=user, organisation_id=None)  # who may open the page at all
    values = {"case": case, "from": since, "to": until, "organisation": organisation}
    context = access_log_context(db=db, viewer=user, values=values, cursor=cursor)
    return render(request, "audit/access_log.html", context)
