"""Wire shapes of the acceptable-use record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from critdesk.aup.service import RedirectRecord
from critdesk.case.schemas import PersonOut, person


class OrganisationRef(BaseModel):
    id: int
    name: str
    package: str


class MonthFigures(BaseModel):
    month: str
    count: int
    by_target: dict[str, int]


class RedirectFigures(BaseModel):
    count: int
    cases: int
    share: float
    by_target: dict[str, int]
    by_month: list[MonthFigures]


class RedirectItem(BaseModel):
    ref: str
    title: str
    channel: str
    reporter: PersonOut | None
    reported_at: datetime
    qualification_at_intake: str
    redirected_at: datetime
    redirected_by: PersonOut | None
    target: str
    message: str | None


class AcceptableUseRecord(BaseModel):
    organisation: OrganisationRef
    period_from: datetime | None
    period_to: datetime | None
    cases_reported: int
    redirected: RedirectFigures
    items: list[RedirectItem]
    next_cursor: str | None


def record_view(
    record: RedirectRecord, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    organisation = record.organisation
    return {
        "organisation": {
            "id": organisation.id,
            "name": organisation.name,
            "package": organisation.package.code,
        },
        "period_from": start,
        "period_to": end,
        "cases_reported": record.cases_reported,
        "redirected": record.figures,
        "items": [
            {
                "ref": case.ref,
                "title": case.title,
                "channel": case.channel,
                "reporter": person(case.reporter),
                "reported_at": case.reported_at,
                "qualification_at_intake": case.qualification,
                "redirected_at": event.at,
                "redirected_by": person(event.actor),
                "target": str(event.data.get("target", "unknown")),
                "message": event.message or event.data.get("message"),
            }
            for event, case in record.items
        ],
    }
