from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from critdesk.auth.models import User
from critdesk.db import Base

SCREEN_SHARE_STATES = ("proposed", "accepted", "done", "cancelled")


class ScreenShare(Base):
    __tablename__ = "screen_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("info_requests.id"))
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # [{"start": iso, "end": iso}, ...] in UTC; each side sees them in its own time zone.
    slots: Mapped[list[Any]]
    accepted_start: Mapped[datetime | None]
    accepted_end: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    meeting_link: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(12))
    notes: Mapped[str | None] = mapped_column(Text)
    # The iCalendar UID and sequence, so that an updated invitation replaces the first one.
    ical_uid: Mapped[str] = mapped_column(String(100))
    ical_sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]

    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id], lazy="joined")
