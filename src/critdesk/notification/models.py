"""The outbox: one row per (event, recipient, channel), written in the transaction of the change
that causes it and drained by the delivery job; plus preferences and webhook endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from critdesk.db import Base

CHANNELS = ("email", "webhook", "in_app")
# pending: waiting for its first attempt · sending: claimed by a runner, whose lease is
# next_attempt_at · sent: delivered (in-app rows are born sent) · failed: an attempt failed,
# retried at next_attempt_at · dead: given up; an admin may retry it.
STATES = ("pending", "sending", "sent", "failed", "dead")
CLAIMABLE = ("pending", "failed", "sending")


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The delivery job's claim: due rows in a claimable state, oldest first.
        Index("ix_notifications_due", "state", "next_attempt_at"),
        # A user's in-app list, newest first.
        Index("ix_notifications_inbox", "user_id", "channel", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One row per (event, recipient, channel): a second insert with the same key is a no-op.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoints.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"))
    # The e-mail address or webhook URL at the time of the event.
    recipient: Mapped[str] = mapped_column(String(500))
    # E-mails given whole (queue_email): subject, text, html, headers; webhooks: the JSON body.
    # Case-event e-mails are rendered from the event when they are sent.
    payload: Mapped[dict[str, Any] | None]
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # In-app notifications only: when the user marked it read.
    read_at: Mapped[datetime | None]
    # The request that caused it (X-Request-ID): delivery logs under the same id.
    request_id: Mapped[str | None] = mapped_column(String(64))


class NotificationPreference(Base):
    """A user's choice for one event kind on one channel; absent rows take the defaults of
    notification.rules.default_enabled."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    enabled: Mapped[bool]
    updated_at: Mapped[datetime]


class WebhookEndpoint(Base):
    """Where signed webhooks go: one organisation's (its own cases, never internal events) or,
    with no organisation, the vendor's own systems (every notifiable event)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    # The HMAC key; shown once when created, kept to sign every delivery.
    secret: Mapped[str] = mapped_column(String(200))
    # Event kinds sent; empty means every notifiable kind.
    kinds: Mapped[list[Any]]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
