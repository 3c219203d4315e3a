"""The access log over the API: customer admins see their organisation's, admins any."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from critdesk.audit import access, schemas
from critdesk.auth.deps import CurrentUser
from critdesk.errors import Invalid
from critdesk.web import MAX_ID, DbSession, Page, encode_cursor

router = APIRouter(prefix="/api/v1/access-log", tags=["audit"])

CaseRef = Annotated[str | None, Query(max_length=20, description="a case ref, e.g. PCH-000123")]
Moment = Annotated[datetime | None, Query(description="ISO 8601; without a zone, UTC")]


def _moment(value: datetime | None, name: str) -> datetime | None:
    """Aware and in UTC; a time without a zone is UTC."""
    if value is None:
        return None
    if not 1900 <= value.year <= 9000:
        raise Invalid("invalid_time", f"{name}: a time between the years 1900 and 9000")
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


@router.get("", response_model=schemas.AccessLogPage)
def access_log(
    db: DbSession,
    user: CurrentUser,
    page: Page,
    organisation: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    case: CaseRef = None,
    since: Annotated[Moment, Query(alias="from")] = None,
    until: Annotated[Moment, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Vendor staff's access to the organisation's cases and files, newest first: case and
    log analysis views (one per person and case per window), downloads, cloud access."""
    filters = access.AccessFilters(
        organisation_id=organisation,
        case_ref=case or None,
        since=_moment(since, "from"),
        until=_moment(until, "to"),
    )
    items, next_id = access.access_log(
        db=db, viewer=user, filters=filters, limit=page.limit, before_id=page.cursor_int()
    )
    return {"items": items, "next_cursor": encode_cursor(next_id)}
