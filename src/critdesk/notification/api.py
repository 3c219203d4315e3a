"""Routes: the caller's in-app notifications and preferences; the admin's deliveries
(dead letters and their retry) and webhook endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from critdesk.auth.deps import CurrentUser
from critdesk.notification import service
from critdesk.notification.schemas import (
    DeliveryOut,
    DeliveryPage,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    InboxPage,
    PreferencesIn,
    PreferencesOut,
    ReadOut,
    delivery_view,
    endpoint_view,
    inbox_item,
)
from critdesk.web import DbSession, Id, Now, Page, encode_cursor

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.get("/notifications", response_model=InboxPage)
def inbox(db: DbSession, user: CurrentUser, page: Page, unread: bool = False) -> dict[str, Any]:
    items, next_id = service.inbox(
        db=db, user=user, unread_only=unread, limit=page.limit, before_id=page.cursor_int()
    )
    return {
        "items": [inbox_item(i) for i in items],
        "next_cursor": encode_cursor(next_id),
        "unread": service.unread_count(db=db, user=user),
    }


@router.post("/notifications/read-all", response_model=ReadOut)
def read_all(db: DbSession, user: CurrentUser, now: Now) -> dict[str, Any]:
    return {"read": service.mark_read(db=db, user=user, notification_id=None, now=now)}


@router.post("/notifications/{notification_id}/read", response_model=ReadOut)
def read_one(notification_id: Id, db: DbSession, user: CurrentUser, now: Now) -> dict[str, Any]:
    return {"read": service.mark_read(db=db, user=user, notification_id=notification_id, now=now)}


@router.get("/notifications/preferences", response_model=PreferencesOut)
def preferences(db: DbSession, user: CurrentUser) -> dict[str, Any]:
    return {"items": service.preferences(db=db, user=user)}


@router.put("/notifications/preferences", response_model=PreferencesOut)
def set_preferences(
    body: PreferencesIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    choices = [(p.kind, p.channel, p.enabled) for p in body.preferences]
    return {"items": service.set_preferences(db=db, user=user, choices=choices, now=now)}


@router.get("/admin/notifications", response_model=DeliveryPage)
def deliveries(
    db: DbSession,
    user: CurrentUser,
    page: Page,
    state: Annotated[str | None, Query(max_length=10)] = None,
    channel: Annotated[str | None, Query(max_length=10)] = None,
) -> dict[str, Any]:
    rows, next_id = service.list_deliveries(
        db=db,
        actor=user,
        state=state,
        channel=channel,
        limit=page.limit,
        before_id=page.cursor_int(),
    )
    return {"items": [delivery_view(r) for r in rows], "next_cursor": encode_cursor(next_id)}


@router.post("/admin/notifications/{notification_id}/retry", response_model=DeliveryOut)
def retry(notification_id: Id, db: DbSession, user: CurrentUser, now: Now) -> dict[str, Any]:
    return delivery_view(service.retry(db=db, actor=user, notification_id=notification_id, now=now))


@router.get("/admin/webhooks", response_model=list[EndpointOut])
def endpoints(db: DbSession, user: CurrentUser) -> list[dict[str, Any]]:
    return [endpoint_view(e) for e in service.list_endpoints(db=db, actor=user)]


@router.post("/admin/webhooks", response_model=EndpointCreated, status_code=201)
def create_endpoint(body: EndpointIn, db: DbSession, user: CurrentUser, now: Now) -> dict[str, Any]:
    endpoint = service.create_endpoint(
        db=db,
        actor=user,
        url=body.url,
        organisation_id=body.organisation_id,
        kinds=body.kinds,
        now=now,
    )
    return endpoint_view(endpoint, with_secret=True)


@router.delete("/admin/webhooks/{endpoint_id}", response_model=EndpointOut)
def deactivate_endpoint(
    endpoint_id: Id, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    return endpoint_view(
        service.deactivate_endpoint(db=db, actor=user, endpoint_id=endpoint_id, now=now)
    )
