from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from critdesk.case.schemas import PersonOut, person
from critdesk.request.models import InfoRequest
from critdesk.web import Id

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class RequestDetailsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: list[Line] | None = Field(default=None, max_length=50)
    expected: Annotated[str, StringConstraints(max_length=5000)] | None = None
    logs: list[Line] | None = Field(default=None, max_length=20)
    window_start: AwareDatetime | None = None
    window_end: AwareDatetime | None = None
    artifact_type: Literal["entity", "project", "workspace"] | None = None
    name: Annotated[str, StringConstraints(max_length=200)] | None = None


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["question", "test", "logs", "artifact", "screen_share"]
    message: Text
    details: RequestDetailsIn = RequestDetailsIn()
    due_at: AwareDatetime | None = None


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: Text
    attachment_ids: list[Id] = Field(default_factory=list, max_length=50)
    result: Literal["pass", "fail"] | None = None


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""


class RequestOut(BaseModel):
    id: int
    kind: str
    message: str
    details: dict[str, Any]
    state: Literal["open", "answered", "cancelled"]
    due_at: datetime | None
    overdue: bool
    created_by: PersonOut
    created_at: datetime
    answered_by: PersonOut | None
    answered_at: datetime | None
    answer: str | None
    result: str | None
    attachment_ids: list[int]
    reminders_sent: int


class RequestPage(BaseModel):
    items: list[RequestOut]
    next_cursor: str | None


def request_view(request: InfoRequest, attachment_ids: list[int], now: datetime) -> dict[str, Any]:
    return {
        "id": request.id,
        "kind": request.kind,
        "message": request.message,
        "details": request.details,
        "state": request.state,
        "due_at": request.due_at,
        "overdue": request.state == "open" and request.due_at is not None and now >= request.due_at,
        "created_by": person(request.created_by),
        "created_at": request.created_at,
        "answered_by": person(request.answered_by),
        "answered_at": request.answered_at,
        "answer": request.answer,
        "result": request.test_result,
        "attachment_ids": attachment_ids,
        "reminders_sent": request.reminders_sent,
    }
