from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from critdesk.db import Base


class SupportPackage(Base):
    __tablename__ = "support_packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    desk_access: Mapped[bool]
    # Calendar spec as understood by critdesk.calendar.rules.Calendar.from_spec.
    calendar: Mapped[dict[str, Any]]
    channels: Mapped[list[Any]]
    # Seconds per severity, e.g. {"S1": 1800, ...}; empty without desk access.
    sla_targets: Mapped[dict[str, Any]]
    queue_weight: Mapped[float]
    phone_number: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
