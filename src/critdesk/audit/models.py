"""The audit trail: who did what to which object, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from critdesk.db import Base


class AuditEvent(Base):
    """Append-only. Written unsealed in the transaction of the change it records; the sealing
    job (``audit.chain.seal``) later gives it ``seq``, ``prev_hash`` and ``hash`` once, in the
    order events became visible, and the database refuses any other update or delete (the
    triggers of migration 0007)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        # The access log: one organisation's events, newest first.
        Index("ix_audit_events_organisation_id_id", "organisation_id", "id"),
        Index("ix_audit_events_seq", "seq", unique=True),
        # What the sealer reads: only the few rows not sealed yet.
        Index(
            "ix_audit_events_unsealed",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]]
    seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditChainHead(Base):
    """One row: the last sealed event's seq and hash. Deleting the newest events leaves the
    head pointing past them, which ``verify`` reports."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime]


class AccessMark(Base):
    """When a staff member's access to one object was last put on the access log: views of the
    same case by the same person within the de-duplication window are recorded once."""

    __tablename__ = "audit_access_marks"

    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    recorded_at: Mapped[datetime]
