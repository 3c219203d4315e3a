from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from critdesk.auth.models import User
from critdesk.db import Base

REQUEST_KINDS = ("question", "test", "logs", "artifact", "screen_share")
REQUEST_STATES = ("open", "answered", "cancelled")


class InfoRequest(Base):
    __tablename__ = "info_requests"
    __table_args__ = (Index("ix_info_requests_case_state", "case_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    # Kind-specific fields: test steps; which logs and the time window; which export.
    details: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(12))
    due_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    # For tests: "pass" or "fail", with the customer's observed result in ``answer``.
    test_result: Mapped[str | None] = mapped_column(String(10))
    cancelled_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_reminded_at: Mapped[datetime | None]

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="joined")
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id], lazy="joined")
