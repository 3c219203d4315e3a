"""Every table, imported once so that Alembic and create_all see the whole schema."""

from critdesk.article.models import Article
from critdesk.attachment.models import Attachment
from critdesk.audit.models import AccessMark, AuditChainHead, AuditEvent
from critdesk.aup.models import RateEvent
from critdesk.auth.models import ApiToken, LoginFailure, User, WebSession
from critdesk.bug.models import Bug, BugCase, BugFixPolicy
from critdesk.case.models import Case, CaseEvent, IdempotencyKey
from critdesk.cloudaccess.models import CloudAccess
from critdesk.db import Base
from critdesk.logs.models import LogAnalysis
from critdesk.mail.models import InboundMessage, MailRefusal
from critdesk.notification.models import Notification, NotificationPreference, WebhookEndpoint
from critdesk.organisation.models import Environment, Organisation
from critdesk.package.models import SupportPackage
from critdesk.report.models import CASES_BY_PERIOD  # noqa: F401  (an index on cases)
from critdesk.request.models import InfoRequest
from critdesk.screenshare.models import ScreenShare

metadata = Base.metadata

__all__ = [
    "AccessMark",
    "ApiToken",
    "Article",
    "Attachment",
    "AuditChainHead",
    "AuditEvent",
    "Bug",
    "BugCase",
    "BugFixPolicy",
    "Case",
    "CaseEvent",
    "CloudAccess",
    "Environment",
    "IdempotencyKey",
    "InboundMessage",
    "InfoRequest",
    "LogAnalysis",
    "LoginFailure",
    "MailRefusal",
    "Notification",
    "NotificationPreference",
    "Organisation",
    "RateEvent",
    "ScreenShare",
    "SupportPackage",
    "User",
    "WebSession",
    "WebhookEndpoint",
    "metadata",
]
