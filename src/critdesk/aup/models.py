from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from critdesk.db import Base


class RateEvent(Base):
    """One admitted rate-limited action (a case reported, a file uploaded).

    The counters of every API process are these rows, so several processes share them; rows
    older than the longest window are pruned as new ones are written.
    """

    __tablename__ = "rate_events"
    __table_args__ = (
        Index("ix_rate_events_org", "action", "organisation_id", "at"),
        Index("ix_rate_events_user", "action", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]
