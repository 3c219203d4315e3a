from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from critdesk.auth.models import User
from critdesk.db import Base
from critdesk.organisation.models import Environment, Organisation
from critdesk.package.models import SupportPackage

REF_PREFIX = "PCH-"


def format_ref(case_id: int) -> str:
    return f"{REF_PREFIX}{case_id:06d}"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # The queue reads open cases per severity and package, most urgent first (see
        # case.queue); these two indexes serve its per-group "top N" reads.
        Index("ix_cases_queue_due", "queue_group", "severity", "package_id", "sla_due_at"),
        Index("ix_cases_queue_age", "queue_group", "severity", "package_id", "reported_at"),
        Index("ix_cases_org_id", "organisation_id", "id"),
        Index("ix_cases_org_reported", "organisation_id", "reported_at"),
        # The SLA sweeps (sla/jobs.py) find running clocks whose warning or breach is due.
        Index("ix_cases_sla_warn", "state", "sla_warn_at"),
        Index("ix_cases_sla_due", "state", "sla_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # The package in force when the case was reported: its SLA and weight apply to the case.
    package_id: Mapped[int] = mapped_column(ForeignKey("support_packages.id"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    impact_app_unavailable: Mapped[bool]
    impact_security_vulnerability: Mapped[bool]
    impact_data_loss: Mapped[bool]
    impact_degraded: Mapped[bool]
    breadth: Mapped[str] = mapped_column(String(30))
    end_users_blocked: Mapped[bool]
    severity: Mapped[str] = mapped_column(String(2))
    customer_severity: Mapped[str] = mapped_column(String(2))
    severity_reasons: Mapped[list[Any]]
    qualification: Mapped[str] = mapped_column(String(20))
    qualification_reasons: Mapped[list[Any]]
    suggested_redirect: Mapped[str | None] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20), index=True)
    # "waiting" (no engineer has started yet), "active" (being worked) or NULL (not open):
    # the queue's partition key.
    queue_group: Mapped[str | None] = mapped_column(String(10))
    queue_weight: Mapped[float]
    reported_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # When the state last changed: how long the case has waited on whom.
    state_changed_at: Mapped[datetime | None]
    sla_target_seconds: Mapped[int]

    sla_clock_starts_at: Mapped[datetime]
    sla_warn_at: Mapped[datetime]
    sla_due_at: Mapped[datetime]
    sla_met_at: Mapped[datetime | None]
    sla_business_seconds_taken: Mapped[int | None]
    sla_breached: Mapped[bool] = mapped_column(default=False)
    # Set once by the SLA sweeps when they claim the case: each fires exactly once.
    sla_warning_sent_at: Mapped[datetime | None]
    sla_breach_sent_at: Mapped[datetime | None]
    redirect_target: Mapped[str | None] = mapped_column(String(30))
    redirect_message: Mapped[str | None] = mapped_column(Text)
    # {"links": [...], "third_party": "..."}: what the customer needs to follow the redirect.
    redirect_details: Mapped[dict[str, Any] | None]

    outcomes: Mapped[list[Any]] = mapped_column(default=list)
    # {"category", "summary", "product_defect", "evidence": [{"type", "id"}], "by", "at"}
    root_cause: Mapped[dict[str, Any] | None]
    # When the customer confirmed the resolution (closing the case).
    confirmed_at: Mapped[datetime | None]

    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Optimistic concurrency: two engineers acting on one case at once cannot both win.
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    organisation: Mapped[Organisation] = relationship(lazy="raise")
    package: Mapped[SupportPackage] = relationship(lazy="raise")
    environment: Mapped[Environment] = relationship(lazy="raise")
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="raise")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="raise")

    @property
    def ref(self) -> str:
        return format_ref(self.id)


class CaseEvent(Base):
    """One entry of a case's timeline: who did what, when, with before/after values."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    # Internal events (engineer notes) are never shown to customers.
    internal: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    # Set while the event's notifications are still to be fanned out (notification.outbox):
    # the case as it stood when the event happened, and the request's id.
    notify: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))

    actor: Mapped[User | None] = relationship(lazy="raise")

    __table_args__ = (
        Index(
            "ix_case_events_notify_pending",
            "id",
            postgresql_where=text("notify IS NOT NULL"),
            sqlite_where=text("notify IS NOT NULL"),
        ),
    )


class IdempotencyKey(Base):
    """A client's ``Idempotency-Key``: a retried request gets the first response again."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime]
