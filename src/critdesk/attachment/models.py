from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from critdesk.auth.models import User
from critdesk.db import Base

ATTACHMENT_KINDS = ("log", "archive", "screenshot", "export", "other")


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (
        # What privacy.retention's purge reads: the few removed rows whose bytes remain.
        Index(
            "ix_attachments_unpurged",
            "id",
            postgresql_where=text("deleted_at IS NOT NULL AND purged_at IS NULL"),
            sqlite_where=text("deleted_at IS NOT NULL AND purged_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("info_requests.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    # Where the storage adapter keeps the bytes; never derived from the user's file name.
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    # For archives: the entries (name, size, compressed size), read without extracting.
    listing: Mapped[list[Any] | None]
    # Engineers may attach files only engineers see (e.g. an internal reproduction).
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    # A removed file's row stays (the timeline shows the removal; downloads answer 410):
    # ``deleted_reason`` is "retention" or "erasure" (see privacy/), ``purged_at`` when its
    # stored bytes were deleted, after the removal had committed.
    deleted_at: Mapped[datetime | None]
    deleted_reason: Mapped[str | None] = mapped_column(String(20))
    purged_at: Mapped[datetime | None]

    uploaded_by: Mapped[User] = relationship(lazy="joined")
