"""Telephone intake: an engineer finds the caller among the named contacts, checks that their
package has the telephone channel, and records the call — opening a case with channel
``phone`` on the caller's behalf, or adding the call's notes to a case of their organisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from critdesk.auth.models import CUSTOMER_ROLES, User
from critdesk.case import rules as case_rules
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.errors import Forbidden, Invalid, NotFound
from critdesk.organisation.models import Environment, Organisation
from critdesk.phone import rules

PHONE_CALL = "phone_call"
MAX_MATCHES = 20
# Characters people put in phone numbers, stripped in SQL before the digits are compared.
_SEPARATORS = (" ", "-", "(", ")", ".", "/")


def require_call_taker(actor: User) -> None:
    if actor.role not in cases.HANDLER_ROLES:
        raise Forbidden("engineers_only", "only engineers and leads record phone calls")


def _digits_of(column: Any) -> Any:
    expression = column
    for separator in _SEPARATORS:
        expression = func.replace(expression, separator, "")
    return expression


def find_contacts(*, db: Session, actor: User, query: str, region: str) -> list[User]:
    """Active named contacts matching a phone number (in any written form) or a name or
    e-mail address (case-insensitive, any part of it)."""
    require_call_taker(actor)
    text = query.strip()
    if len(text) < 2:
        return []
    contacts = select(User).where(User.role.in_(sorted(CUSTOMER_ROLES)), User.active.is_(True))
    number = rules.normalise(text, region)
    if number is not None:
        # The last digits narrow the search in SQL; the E.164 forms then decide.
        tail = rules.last_digits(number)
        found = db.scalars(
            contacts.where(_digits_of(User.phone).like(f"%{tail}")).order_by(User.id)
        )
        return [u for u in found if rules.normalise(u.phone, region) == number][:MAX_MATCHES]
    pattern = f"%{text.lower()}%"
    return list(
        db.scalars(
            contacts.where(
                or_(func.lower(User.name).like(pattern), func.lower(User.email).like(pattern))
            )
            .order_by(User.name, User.id)
            .limit(MAX_MATCHES)
        )
    )


def get_contact(*, db: Session, actor: User, user_id: int) -> User:
    require_call_taker(actor)
    caller = db.get(User, user_id)
    if caller is None or not caller.is_customer or not caller.active:
        raise NotFound("contact")
    return caller


def resolve_caller(
    *, db: Session, actor: User, caller_id: int | None, caller: str | None, region: str
) -> User:
    """The one contact meant: by id, or by a number, name or e-mail that matches only them."""
    if caller_id is not None:
        return get_contact(db=db, actor=actor, user_id=caller_id)
    if not caller or not caller.strip():
        raise Invalid("caller_required", "give the caller's number, name or e-mail, or caller_id")
    matches = find_contacts(db=db, actor=actor, query=caller or "", region=region)
    if not matches:
        raise Invalid("unknown_caller", f"no named contact matches {caller!r}")
    if len(matches) > 1:
        raise Invalid(
            "ambiguous_caller",
            f"{len(matches)} named contacts match {caller!r}; give caller_id",
            candidates=[{"id": u.id, "email": u.email, "name": u.name} for u in matches],
        )
    return matches[0]


def entitlement_refusal(caller: User) -> str | None:
    """Why this caller may not use the telephone channel (None: they may)."""
    assert caller.organisation is not None
    try:
        cases.check_entitlement(caller.organisation.package, "phone")
    except Forbidden as refusal:
        return refusal.message
    return None


def open_cases(*, db: Session, organisation_id: int) -> list[Case]:
    """The caller's organisation's open cases, newest first: the ones a call may be about."""
    query = (
        select(Case)
        .where(Case.organisation_id == organisation_id, Case.state.in_(case_rules.OPEN_STATES))
        .order_by(Case.id.desc())
        .limit(50)
    )
    return list(db.scalars(query))


@dataclass(frozen=True, slots=True)
class Call:
    """What the engineer noted: the notes, and either the case it is about or a new report."""

    notes: str
    case_ref: str | None = None
    title: str | None = None
    environment_id: int | None = None
    impact: case_rules.Impact = field(default_factory=case_rules.Impact)
    breadth: str | None = None
    end_users_blocked: bool | None = None
    # The form's key: a resubmitted form opens no second case.
    form_key: str | None = None


def _caller_data(caller: User) -> dict[str, str]:
    return {"email": caller.email, "name": caller.name}


def _environment(db: Session, caller: User, environment_id: int | None) -> int:
    if environment_id is not None:
        return environment_id
    production = db.scalars(
        select(Environment.id).where(
            Environment.organisation_id == caller.organisation_id,
            Environment.production.is_(True),
        )
    ).all()
    if len(production) != 1:
        raise Invalid("environment_required", "say which environment the caller is calling about")
    return production[0]


def _new_case(db: Session, caller: User, call: Call) -> cases.NewCase:
    if not call.title or len(call.title.strip()) < 3:
        raise Invalid("title_required", "give the issue a short title of 3 to 200 characters")
    if call.breadth not in case_rules.BREADTHS:
        raise Invalid("breadth_required", f"breadth must be one of {case_rules.BREADTHS}")
    if call.end_users_blocked is None:
        raise Invalid("end_users_blocked_required", "ask whether end users are blocked")
    return cases.NewCase(
        title=call.title.strip()[:200],
        description=call.notes.strip(),
        environment_id=_environment(db, caller, call.environment_id),
        impact=call.impact,
        breadth=call.breadth,
        end_users_blocked=call.end_users_blocked,
        channel="phone",
    )


def record_call(
    *, db: Session, actor: User, caller: User, call: Call, now: datetime
) -> tuple[Case, bool]:
    """Records the call; returns (the case, whether it is new).

    The caller's package must have the telephone channel; the refusal names the channels it
    does have. A case the call is about must belong to the caller's organisation.
    """
    require_call_taker(actor)
    organisation: Organisation | None = caller.organisation
    if not caller.is_customer or not caller.active or organisation is None:
        raise Invalid("not_a_contact", "calls are recorded for a customer's named contacts")
    cases.check_entitlement(organisation.package, "phone")
    if not call.notes.strip():
        raise Invalid("notes_required", "note what the caller said")
    if call.case_ref:
        case = cases.get_case(db=db, viewer=actor, ref=call.case_ref)
        if case.organisation_id != caller.organisation_id:
            raise Invalid(
                "case_of_another_organisation",
                f"{case.ref} is not a case of {organisation.name}",
            )
        cases.record_event(
            db=db,
            case=case,
            actor=actor,
            now=now,
            kind=PHONE_CALL,
            message=call.notes.strip(),
            data={"caller": _caller_data(caller)},
        )
        db.flush()
        return case, False
    case, created, _events = cases.report_case(
        db=db,
        reporter=caller,
        new=_new_case(db, caller, call),
        now=now,
        idempotency_key=f"phone:{call.form_key}" if call.form_key else None,
        recorded_by=actor,
    )
    if created:
        # The notes are the case's description; the timeline records who took the call.
        cases.record_event(
            db=db,
            case=case,
            actor=actor,
            now=now,
            kind=PHONE_CALL,
            data={"caller": _caller_data(caller), "opened_case": True},
        )
        db.flush()
    return case, created
