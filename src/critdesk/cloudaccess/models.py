from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from critdesk.auth.models import User
from critdesk.db import Base


class CloudAccess(Base):
    __tablename__ = "cloud_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id"))
    engineer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    justification: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]
    # Set by the expiry sweep when it records the expiry on the audit trail (exactly once).
    expiry_recorded_at: Mapped[datetime | None]
    uses: Mapped[int] = mapped_column(default=0)

    engineer: Mapped[User] = relationship(lazy="joined")
