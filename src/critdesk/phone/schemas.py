"""Wire shapes of telephone intake."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StrictBool, StringConstraints

from critdesk.auth.models import User
from critdesk.case.models import Case
from critdesk.case.schemas import Breadth, CaseDetail, ImpactIn, StrictId
from critdesk.phone import service

Notes = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)]


class CallIn(BaseModel):
    """A call: who called (``caller_id``, or a number, e-mail or name that matches one named
    contact), the notes, and either the case it is about or the answers of a new report."""

    model_config = ConfigDict(extra="forbid")
    caller: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = None
    caller_id: StrictId | None = None
    notes: Notes
    case_ref: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    environment_id: StrictId | None = None
    impact: ImpactIn = ImpactIn()
    breadth: Breadth | None = None
    end_users_blocked: StrictBool | None = None

    def to_call(self, form_key: str | None = None) -> service.Call:
        return service.Call(
            notes=self.notes,
            case_ref=self.case_ref or None,
            title=self.title,
            environment_id=self.environment_id,
            impact=self.impact.to_rule(),
            breadth=self.breadth,
            end_users_blocked=self.end_users_blocked,
            form_key=form_key,
        )


class CallOut(CaseDetail):
    created: bool


class OpenCaseRef(BaseModel):
    ref: str
    title: str
    state: str
    severity: str


class OrganisationRef(BaseModel):
    id: int
    name: str
    package: str


class ContactOut(BaseModel):
    id: int
    name: str
    email: str
    phone: str | None
    organisation: OrganisationRef
    phone_channel: bool
    refusal: str | None
    open_cases: list[OpenCaseRef]


def case_ref_view(case: Case) -> dict[str, Any]:
    return {"ref": case.ref, "title": case.title, "state": case.state, "severity": case.severity}


def contact_view(contact: User, open_cases: list[Case]) -> dict[str, Any]:
    organisation = contact.organisation
    assert organisation is not None
    refusal = service.entitlement_refusal(contact)
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "organisation": {
            "id": organisation.id,
            "name": organisation.name,
            "package": organisation.package.name,
        },
        "phone_channel": refusal is None,
        "refusal": refusal,
        "open_cases": [case_ref_view(c) for c in open_cases],
    }
