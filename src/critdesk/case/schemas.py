"""Wire shapes of cases: requests in, responses out (kept apart from the tables)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from annotated_types import Interval
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)

from critdesk.case import rules
from critdesk.case.models import Case, CaseEvent
from critdesk.sla import rules as sla
from critdesk.web import MAX_ID

if TYPE_CHECKING:
    from critdesk.queue.service import QueueCase

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)]
Breadth = Literal["all_users", "end_users", "particular_circumstance"]
Channel = Literal["web", "email", "phone"]
Severity = Literal["S1", "S2", "S3", "S4"]
StrictId = Annotated[StrictInt, Interval(ge=1, le=MAX_ID)]
RedirectTarget = Literal[
    "documentation", "support_helpdesk", "community_forum", "third_party_support", "account_manager"
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImpactIn(Strict):
    app_unavailable: StrictBool = False
    security_vulnerability: StrictBool = False
    data_loss: StrictBool = False
    degraded: StrictBool = False

    def to_rule(self) -> rules.Impact:
        return rules.Impact(**self.model_dump())


class CaseCreate(Strict):
    title: Title
    description: Text
    environment_id: StrictId
    impact: ImpactIn
    breadth: Breadth
    end_users_blocked: StrictBool
    channel: Channel | None = None


class CasePreviewIn(Strict):
    environment_id: StrictId
    impact: ImpactIn
    breadth: Breadth
    end_users_blocked: StrictBool


class AssignIn(Strict):
    engineer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]


class AssessIn(Strict):
    severity: Severity
    reason: Text


class RedirectIn(Strict):
    target: RedirectTarget
    message: Text
    links: list[AnyHttpUrl] = Field(default_factory=list, max_length=20)
    third_party: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = (
        None
    )


class OutcomeIn(Strict):
    type: Literal["resolution_advised", "workaround_provided", "bug_reported"]
    text: Text
    # For bug_reported: the bug report (a URL or a tracker key) until the bug tracker links it.
    link: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class EvidenceIn(Strict):
    type: Literal["attachment", "comment"]
    id: StrictId


class RootCauseIn(Strict):
    category: Literal[
        "product_defect",
        "configuration",
        "customer_code",
        "third_party",
        "infrastructure",
        "unknown",
    ]
    summary: Text
    product_defect: StrictBool
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=50)


class ResolveIn(Strict):
    outcomes: list[OutcomeIn] = Field(min_length=1, max_length=20)


class ReopenIn(Strict):
    reason: Annotated[str, StringConstraints(max_length=5000)] = ""


class EmptyIn(Strict):
    pass


class QualificationOut(BaseModel):
    status: Literal["critical", "not_critical"]
    reasons: list[str]
    suggested_redirect: str | None = None


class SlaOut(BaseModel):
    target_seconds: int
    clock_starts_at: datetime
    warn_at: datetime
    due_at: datetime
    status: Literal["running", "met", "breached"]
    met_at: datetime | None = None
    business_seconds_taken: int | None = None


class PersonOut(BaseModel):
    email: str
    name: str


class EnvironmentRef(BaseModel):
    id: int
    name: str
    type: str
    production: bool


class WaitingOut(BaseModel):
    on: Literal["vendor", "customer"]
    since: datetime


class CaseSummary(BaseModel):
    ref: str
    title: str
    state: str
    severity: Severity
    channel: str
    qualification: QualificationOut
    organisation: str
    environment: EnvironmentRef
    owner: PersonOut | None
    reported_at: datetime
    updated_at: datetime
    sla: SlaOut
    waiting: WaitingOut | None


class EventOut(BaseModel):
    at: datetime
    kind: str
    actor: PersonOut | None
    message: str | None
    internal: bool
    data: dict[str, Any]


class Outcome(BaseModel):
    type: str
    text: str
    link: str | None = None


class RedirectOut(BaseModel):
    target: str
    message: str
    links: list[str] = []
    third_party: str | None = None


class RootCauseOut(BaseModel):
    category: str
    summary: str
    product_defect: bool
    evidence: list[dict[str, Any]]
    by: str
    at: datetime


class CaseDetail(CaseSummary):
    description: str
    reporter: PersonOut
    impact: dict[str, bool]
    breadth: str
    end_users_blocked: bool
    severity_reasons: list[str]
    timeline: list[EventOut]
    outcomes: list[Outcome] | None = None
    redirect: RedirectOut | None = None
    root_cause: RootCauseOut | None = None
    confirmed_at: datetime | None = None


class Suggestion(BaseModel):
    kind: Literal["bug", "article"]
    key: str
    title: str
    url: str
    score: float
    state: str | None = None
    fix_version: str | None = None
    workaround: str | None = None


class CaseCreated(CaseDetail):
    suggestions: list[Suggestion]


# What a case that was just reported has not got yet (CaseDetail's optional fields, as nulls).
_NOT_YET = {"outcomes": None, "redirect": None, "root_cause": None, "confirmed_at": None}
_SUGGESTION_FIELDS = tuple(Suggestion.model_fields)


def created_view(
    case: Case, events: Sequence[CaseEvent], now: datetime, suggestions: list[dict[str, Any]]
) -> dict[str, Any]:
    """CaseCreated's view of a case reported just now, for ``web.view_response`` (about 60 us
    of a report's 1.3-1.4 ms of CPU, measured): a new case has no outcome, redirect, root cause
    or confirmation yet; its timeline is the events just written; a suggestion keeps the fields
    Suggestion shows."""
    view = _NOT_YET | detail_view(case, events, now)
    view["suggestions"] = [
        {name: found.get(name) for name in _SUGGESTION_FIELDS} for found in suggestions
    ]
    return view


class CasePreviewOut(BaseModel):
    severity: Severity
    severity_reasons: list[str]
    qualification: QualificationOut
    sla: dict[str, Any] | None


class QueueItem(CaseSummary):
    score: float
    explanation: list[str]


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None


class QueuePage(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None


def person(user: Any) -> dict[str, str] | None:
    return None if user is None else {"email": user.email, "name": user.name}


def sla_view(case: Case | QueueCase, now: datetime) -> dict[str, Any]:
    view: dict[str, Any] = {
        "target_seconds": case.sla_target_seconds,
        "clock_starts_at": case.sla_clock_starts_at,
        "warn_at": case.sla_warn_at,
        "due_at": case.sla_due_at,
        "status": sla.status(due_at=case.sla_due_at, met_at=case.sla_met_at, now=now),
        # Every field of SlaOut, null ones too: a view is then the JSON as it goes out.
        "met_at": case.sla_met_at,
        "business_seconds_taken": case.sla_business_seconds_taken,
    }
    return view


def waiting_view(case: Case | QueueCase) -> dict[str, Any] | None:
    """Whom the case waits on, and since when (None once redirected or closed)."""
    on = rules.WAITING_ON.get(case.state)
    if on is None:
        return None
    return {"on": on, "since": case.state_changed_at or case.updated_at}


def summary_view(case: Case | QueueCase, now: datetime) -> dict[str, Any]:

    env = case.environment
    return {
        "ref": case.ref,
        "title": case.title,
        "state": case.state,
        "severity": case.severity,
        "channel": case.channel,
        "qualification": {
            "status": case.qualification,
            "reasons": case.qualification_reasons,
            "suggested_redirect": case.suggested_redirect,
        },
        "organisation": case.organisation.name,
        "environment": {
            "id": env.id,
            "name": env.name,
            "type": env.type,
            "production": env.production,
        },
        "owner": person(case.owner),
        "reported_at": case.reported_at,
        "updated_at": case.updated_at,
        "sla": sla_view(case, now),
        "waiting": waiting_view(case),
    }


def event_view(event: CaseEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "kind": event.kind,
        "actor": person(event.actor),
        "message": event.message,
        "internal": event.internal,
        "data": event.data,
    }


def detail_view(case: Case, events: Sequence[CaseEvent], now: datetime) -> dict[str, Any]:
    view = summary_view(case, now) | {
        "description": case.description,
        "reporter": person(case.reporter),
        "impact": {
            "app_unavailable": case.impact_app_unavailable,
            "security_vulnerability": case.impact_security_vulnerability,
            "data_loss": case.impact_data_loss,
            "degraded": case.impact_degraded,
        },
        "breadth": case.breadth,
        "end_users_blocked": case.end_users_blocked,
        "severity_reasons": case.severity_reasons,
        "timeline": [event_view(e) for e in events],
    }
    if case.outcomes:
        view["outcomes"] = case.outcomes
    if case.redirect_target:
        view["redirect"] = {
            "target": case.redirect_target,
            "message": case.redirect_message,
            **(case.redirect_details or {}),
        }
    if case.root_cause:
        view["root_cause"] = case.root_cause
    if case.confirmed_at:
        view["confirmed_at"] = case.confirmed_at
    return view
