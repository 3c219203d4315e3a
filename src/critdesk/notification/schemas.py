"""Wire shapes of the notification API (apart from the tables in models.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from critdesk.notification.models import Notification, WebhookEndpoint
from critdesk.notification.service import InboxItem
from critdesk.web import Id


class InboxItemOut(BaseModel):
    id: int
    kind: str
    case: str | None
    headline: str
    message: str | None
    created_at: datetime
    read_at: datetime | None


class InboxPage(BaseModel):
    items: list[InboxItemOut]
    next_cursor: str | None
    unread: int


class ReadOut(BaseModel):
    read: int


class PreferenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Annotated[str, StringConstraints(max_length=40)]
    channel: Annotated[str, StringConstraints(max_length=10)]
    enabled: StrictBool


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    preferences: list[PreferenceIn] = Field(max_length=200)


class PreferenceOut(BaseModel):
    kind: str
    channel: str
    enabled: bool
    default: bool


class PreferencesOut(BaseModel):
    items: list[PreferenceOut]


class DeliveryOut(BaseModel):
    id: int
    key: str
    channel: str
    kind: str
    recipient: str
    case_id: int | None
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=500)]
    organisation_id: Id | None = None
    kinds: list[Annotated[str, StringConstraints(max_length=40)]] = Field(
        default_factory=list, max_length=50
    )


class EndpointOut(BaseModel):
    id: int
    url: str
    organisation_id: int | None
    kinds: list[str]
    active: bool
    created_at: datetime


class EndpointCreated(EndpointOut):
    # Shown once, when the endpoint is created: the receiver verifies signatures with it.
    secret: str


def inbox_item(item: InboxItem) -> dict[str, Any]:
    n = item.notification
    return {
        "id": n.id,
        "kind": n.kind,
        "case": item.case_ref,
        "headline": item.headline,
        "message": item.message,
        "created_at": n.created_at,
        "read_at": n.read_at,
    }


def delivery_view(n: Notification) -> dict[str, Any]:
    return {
        name: getattr(n, name)
        for name in (
            "id",
            "key",
            "channel",
            "kind",
            "recipient",
            "case_id",
            "state",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
            "sent_at",
        )
    }


def endpoint_view(e: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    view = {
        "id": e.id,
        "url": e.url,
        "organisation_id": e.organisation_id,
        "kinds": list(e.kinds),
        "active": e.active,
        "created_at": e.created_at,
    }
    return view | ({"secret": e.secret} if with_secret else {})
