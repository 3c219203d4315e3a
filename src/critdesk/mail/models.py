from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from critdesk.db import Base


class InboundMessage(Base):
    """One message handed over by the MTA and what became of it.

    ``dedup_key`` (the Message-ID, or a hash of the message without one) makes a redelivery —
    the MTA retrying after our answer was lost — a no-op instead of a second case.
    """

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(255), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(500))
    sender: Mapped[str | None] = mapped_column(String(254), index=True)
    envelope_sender: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    size: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(index=True)
    # case_opened, reply_added, ignored, refused
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)


class MailRefusal(Base):
    """The one polite refusal a sender gets per day (UTC): the unique row is the guard."""

    __tablename__ = "mail_refusals"
    __table_args__ = (UniqueConstraint("sender", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(254))
    day: Mapped[date]
    sent_at: Mapped[datetime]
