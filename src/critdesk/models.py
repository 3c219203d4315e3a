"""Every table, imported once so that Alembic and create_all see the whole schema."""

from critdesk.audit.models import AuditEvent
from critdesk.auth.models import ApiToken, LoginFailure, User, WebSession
from critdesk.case.models import Case, CaseEvent, IdempotencyKey
from critdesk.db import Base
from critdesk.organisation.models import Environment, Organisation
from critdesk.package.models import SupportPackage

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Case",
    "CaseEvent",
    "Environment",
    "IdempotencyKey",
    "LoginFailure",
    "Organisation",
    "SupportPackage",
    "User",
    "WebSession",
    "metadata",
]
