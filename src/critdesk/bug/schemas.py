"""Bug report wire shapes; customers get the public fields only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from critdesk.bug.models import Bug
from critdesk.bug.rules import FixTarget
from critdesk.case.models import Case

Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Long = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50_000)]
Severity = Literal["S1", "S2", "S3", "S4"]
State = Literal["new", "confirmed", "in_progress", "fixed", "released", "wont_fix", "duplicate"]


class EnvironmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deployment_type: Literal["on_premises", "gateway", "cloud"] | None = None
    product_version: Short | None = None
    database: Short | None = None
    browser: Short | None = None
    operating_system: Short | None = None
    production: StrictBool | None = None
    other: Annotated[str, StringConstraints(max_length=2000)] | None = None


class BugFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product: Short = "Platform"
    component: Short | None = None
    affected_versions: list[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    ] = Field(default_factory=list, max_length=50)
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=300)]
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)
    ]
    steps_to_reproduce: Long | None = None
    expected: Long | None = None
    actual: Long | None = None
    environment: EnvironmentIn = EnvironmentIn()
    severity: Severity
    public: StrictBool = False
    workaround: Long | None = None
    signatures: list[Annotated[str, StringConstraints(max_length=500)]] = Field(
        default_factory=list, max_length=50
    )


class BugIn(BugFields):
    submit: StrictBool = True


class BugUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product: Short | None = None
    component: Short | None = None
    affected_versions: list[str] | None = None
    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=300)]
        | None
    ) = None
    description: Long | None = None
    steps_to_reproduce: Long | None = None
    expected: Long | None = None
    actual: Long | None = None
    environment: EnvironmentIn | None = None
    severity: Severity | None = None
    public: StrictBool | None = None
    workaround: Long | None = None
    signatures: list[str] | None = None

    @model_validator(mode="after")
    def _no_null_for_required_fields(self) -> BugUpdate:
        # Absent means "leave as it is"; an explicit null would blank a field every report has.
        nulled = sorted(
            name for name in self.model_fields_set & REQUIRED_FIELDS if getattr(self, name) is None
        )
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null; leave them out instead")
        return self


REQUIRED_FIELDS = frozenset(
    {
        "product",
        "affected_versions",
        "title",
        "description",
        "environment",
        "severity",
        "public",
        "signatures",
    }
)


class BugFromCaseIn(BugUpdate):
    """Overrides on top of what the case knows."""

    submit: StrictBool = True


class StateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: State
    fix_version: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = (
        None
    )
    duplicate_of: Annotated[str, StringConstraints(max_length=20)] | None = None


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bug: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]


class FixTargetOut(BaseModel):
    due_at: datetime | None
    description: str
    status: Literal["on_track", "at_risk", "overdue", "met", "missed", "not_applicable"]


class LinkedCaseOut(BaseModel):
    ref: str
    title: str
    organisation: str
    state: str


class BugPublicOut(BaseModel):
    """What a customer may see of a bug."""

    key: str
    title: str
    product: str
    component: str | None
    affected_versions: list[str]
    severity: str
    state: str
    fix_version: str | None
    workaround: str | None
    fix_target: FixTargetOut
    public: bool
    cases: list[LinkedCaseOut]


class BugOut(BugPublicOut):
    description: str
    steps_to_reproduce: str | None
    expected: str | None
    actual: str | None
    environment: dict[str, Any]
    signatures: list[str]
    duplicate_of: str | None
    submitted_at: datetime | None
    missing: list[str]
    external_refs: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime


class BugPage(BaseModel):
    items: list[BugOut | BugPublicOut]
    next_cursor: str | None


class SimilarHit(BaseModel):
    key: str
    kind: Literal["bug", "article"]
    title: str
    state: str | None
    fix_version: str | None
    workaround: str | None
    score: float
    matched_by: list[str]
    url: str


class SimilarOut(BaseModel):
    items: list[SimilarHit]


class PolicyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    severity: Severity
    target: Literal["hotfix", "next_minor", "next_major"]
    days: Annotated[int, Field(ge=1, le=3650)]
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)
    ]


def case_view(case: Case) -> dict[str, Any]:
    return {
        "ref": case.ref,
        "title": case.title,
        "organisation": case.organisation.name,
        "state": case.state,
    }


def public_view(bug: Bug, target: FixTarget, linked: list[Case]) -> dict[str, Any]:
    return {
        "key": bug.key,
        "title": bug.title,
        "product": bug.product,
        "component": bug.component,
        "affected_versions": bug.affected_versions,
        "severity": bug.severity,
        "state": bug.state,
        "fix_version": bug.fix_version,
        "workaround": bug.workaround,
        "fix_target": {
            "due_at": target.due_at,
            "description": target.description,
            "status": target.status,
        },
        "public": bug.public,
        "cases": [case_view(c) for c in linked],
    }


def full_view(
    bug: Bug, target: FixTarget, linked: list[Case], missing: list[str], duplicate_key: str | None
) -> dict[str, Any]:
    return public_view(bug, target, linked) | {
        "description": bug.description,
        "steps_to_reproduce": bug.steps_to_reproduce,
        "expected": bug.expected,
        "actual": bug.actual,
        "environment": bug.environment,
        "signatures": bug.signatures,
        "duplicate_of": duplicate_key,
        "submitted_at": bug.submitted_at,
        "missing": missing,
        "external_refs": bug.external_refs,
        "created_by": bug.created_by.email,
        "created_at": bug.created_at,
        "updated_at": bug.updated_at,
    }
