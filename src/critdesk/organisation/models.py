from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from critdesk.db import Base
from critdesk.package.models import SupportPackage

ENVIRONMENT_TYPES = ("on_premises", "gateway", "cloud")


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("support_packages.id"))
    account_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_organisations_account_manager_id_users")
    )
    created_at: Mapped[datetime]

    package: Mapped[SupportPackage] = relationship(lazy="joined")
    environments: Mapped[list[Environment]] = relationship(
        back_populates="organisation", order_by="Environment.id"
    )


class Environment(Base):
    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20))
    production: Mapped[bool]
    product_version: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]

    organisation: Mapped[Organisation] = relationship(back_populates="environments")
