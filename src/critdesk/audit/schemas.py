"""Wire shapes of the access log."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AccessWho(BaseModel):
    name: str
    role: str


class AccessEntry(BaseModel):
    id: int
    at: datetime
    who: AccessWho
    action: str
    case: str | None
    file: str | None
    organisation_id: int | None


class AccessLogPage(BaseModel):
    items: list[AccessEntry]
    next_cursor: str | None
