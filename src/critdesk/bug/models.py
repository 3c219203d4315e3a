from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, Index, String, Text, UniqueConstraint, and_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from critdesk.auth.models import User
from critdesk.db import Base

BUG_STATES = ("new", "confirmed", "in_progress", "fixed", "released", "wont_fix", "duplicate")
BUG_KEY_PREFIX = "BUG-"


def format_key(bug_id: int) -> str:
    return f"{BUG_KEY_PREFIX}{bug_id}"


class Bug(Base):
    __tablename__ = "bugs"
    __table_args__ = (Index("ix_bugs_updated", "updated_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product: Mapped[str] = mapped_column(String(100))
    component: Mapped[str | None] = mapped_column(String(100))
    affected_versions: Mapped[list[Any]]
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    steps_to_reproduce: Mapped[str | None] = mapped_column(Text)
    expected: Mapped[str | None] = mapped_column(Text)
    actual: Mapped[str | None] = mapped_column(Text)
    # deployment_type, product_version, database, browser, operating_system, other
    environment: Mapped[dict[str, Any]]
    severity: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(12), index=True)
    fix_version: Mapped[str | None] = mapped_column(String(40))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("bugs.id"))
    public: Mapped[bool] = mapped_column(default=False)
    workaround: Mapped[str | None] = mapped_column(Text)
    # Exception/log signatures (fingerprints) for known-issue matching.
    signatures: Mapped[list[Any]]
    # {"jira": "CRIT-12", "github": 345}: where the report lives in external trackers.
    external_refs: Mapped[dict[str, Any]]
    # Filed as incomplete drafts are kept but not submitted until complete.
    submitted_at: Mapped[datetime | None]
    fix_target_at: Mapped[datetime | None]
    fixed_at: Mapped[datetime | None]

    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    state_changed_at: Mapped[datetime]

    created_by: Mapped[User] = relationship(lazy="joined")

    @hybrid_property
    def is_public(self) -> bool:
        """Customers see a bug report of another organisation only when it is public and has
        been submitted to the tracker (a draft marked public is not published yet)."""
        return bool(self.public) and self.submitted_at is not None

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls) -> ColumnElement[bool]:
        return and_(cls.public.is_(True), cls.submitted_at.is_not(None))

    @property
    def key(self) -> str:
        return format_key(self.id)


class BugCase(Base):
    """Many cases link to one bug; a customer sees only its own cases on a bug."""

    __tablename__ = "bug_cases"
    __table_args__ = (UniqueConstraint("bug_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bug_id: Mapped[int] = mapped_column(ForeignKey("bugs.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    linked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime]


class BugFixPolicy(Base):
    """The Bug Fix Policy: a fix target per bug severity."""

    __tablename__ = "bug_fix_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    severity: Mapped[str] = mapped_column(String(2), unique=True)
    # "hotfix" (within ``days``), "next_minor", "next_major"
    target: Mapped[str] = mapped_column(String(20))
    days: Mapped[int]
    description: Mapped[str] = mapped_column(String(300))
