"""Acceptable Use routes: the organisation's record, and the upload rate check."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from critdesk.aup import schemas, service
from critdesk.auth.deps import CurrentUser
from critdesk.errors import Invalid
from critdesk.web import MAX_ID, AppSettings, DbSession, Now, Page, encode_cursor

router = APIRouter(prefix="/api/v1/organisations", tags=["acceptable use"])


@router.get("/{organisation_id}/acceptable-use", response_model=schemas.AcceptableUseRecord)
def acceptable_use(
    organisation_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    db: DbSession,
    user: CurrentUser,
    page: Page,
    period_from: Annotated[datetime | None, Query(alias="from")] = None,
    period_to: Annotated[datetime | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Cases redirected as not critical (or not the vendor's defect): figures by target and
    month, and the redirects themselves, newest first. For the organisation's account manager,
    leads and admins."""
    # A date or a time without a zone ("from=2026-11-01") reads as UTC.
    period_from, period_to = (
        v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v
        for v in (period_from, period_to)
    )
    if period_from and period_to and period_from >= period_to:
        raise Invalid("invalid_period", "from must be before to")
    record = service.redirect_record(
        db=db,
        viewer=user,
        organisation_id=organisation_id,
        period=service.Period(period_from, period_to),
        limit=page.limit,
        before_id=page.cursor_int(),
    )
    return schemas.record_view(record, period_from, period_to) | {
        "next_cursor": encode_cursor(record.next_id)
    }


def check_upload_rate(db: DbSession, user: CurrentUser, now: Now, settings: AppSettings) -> None:
    """Refuses an upload over a rate limit (429) before a byte of its body is received."""
    service.check(db=db, limits=service.upload_limits(settings), user=user, now=now)


UploadRateChecked = Annotated[None, Depends(check_upload_rate)]
