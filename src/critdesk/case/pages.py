"""Case pages: report an issue (with a live preview), the case list, a case and its actions.

Each route parses the form, calls the same service function as the API and hands a plain
context dict to its template; the ``*_context`` functions are tested without any HTML.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.datastructures import FormData

from critdesk.auth.models import User
from critdesk.auth.pages import Form, PageUser, field
from critdesk.case import rules, schemas, service
from critdesk.case.models import Case
from critdesk.config import Settings
from critdesk.errors import DomainError, Forbidden, Invalid, NotFound, RateLimited
from critdesk.package.service import calendar_of
from critdesk.templating import label, render, render_fragment, sentence, set_flash
from critdesk.web import AppSettings, DbSession, Now, Pagination, encode_cursor

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
IMPACT_FIELDS = ("app_unavailable", "security_vulnerability", "data_loss", "degraded")
FIELD_MESSAGES = {
    "title": "Give the issue a short title of 3 to 200 characters.",
    "description": "Describe what happens, since when, and what you have tried.",
    "environment_id": "Choose the environment where it happens.",
    "breadth": "Say who is affected.",
    "end_users_blocked": "Say whether end users can still complete their journeys.",
}
ANSWERS = {"yes": True, "no": False}


# --- reporting --------------------------------------------------------------------------


def read_report(form: FormData) -> dict[str, Any]:
    """The report form's answers as typed, kept to fill the form again after an error."""
    return {
        "environment_id": field(form, "environment_id", 20),
        "title": field(form, "title", 400),
        "description": field(form, "description"),
        "impact": [name for name in IMPACT_FIELDS if field(form, name)],
        "breadth": field(form, "breadth", 40),
        "end_users_blocked": field(form, "end_users_blocked", 5),
        "form_key": field(form, "form_key", 64) or secrets.token_urlsafe(16),
    }


def parse_report(
    values: dict[str, Any], schema: type[BaseModel] = schemas.CaseCreate
) -> tuple[service.NewCase | None, dict[str, str]]:
    """The answers checked by the API's own schema; returns (new case, messages per field)."""
    environment = values["environment_id"]
    payload: dict[str, Any] = {
        "environment_id": int(environment)
        if environment.isascii() and environment.isdigit() and len(environment) <= 9
        else None,
        "impact": {name: True for name in values["impact"]},
        "breadth": values["breadth"] or None,
        "end_users_blocked": ANSWERS.get(values["end_users_blocked"]),
    }
    if schema is schemas.CaseCreate:
        payload |= {"title": values["title"], "description": values["description"]}
    try:
        body: Any = schema.model_validate(payload)
    except ValidationError as error:
        messages: dict[str, str] = {}
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "form"
            messages.setdefault(name, FIELD_MESSAGES.get(name, sentence(problem["msg"])))
        return None, messages
    new = service.NewCase(
        title=getattr(body, "title", ""),
        description=getattr(body, "description", ""),
        environment_id=body.environment_id,
        impact=body.impact.to_rule(),
        breadth=body.breadth,
        end_users_blocked=body.end_users_blocked,
    )
    return new, {}


def _customer_organisation(user: User) -> Any:
    if not user.is_customer or user.organisation is None:
        raise Forbidden("customers_only", "issues are reported by a customer's named contacts")
    return user.organisation


def preview_context(
    *, db: Session, user: User, values: dict[str, Any], now: datetime
) -> dict[str, Any] | None:
    """What intake would decide for the answers so far; None until enough is answered."""
    new, _errors = parse_report(values, schemas.CasePreviewIn)
    organisation = _customer_organisation(user)
    if new is None or not organisation.package.desk_access:
        return None
    try:
        environment = service.own_environment(db, user, new.environment_id)
    except Invalid:
        return None
    decision = service.preview(
        package=organisation.package, environment=environment, new=new, now=now
    )
    return decision | {"environment": environment.name, "production": environment.production}


def report_context(
    *,
    db: Session,
    user: User,
    values: dict[str, Any] | None,
    errors: dict[str, str],
    now: datetime,
) -> dict[str, Any]:
    organisation = _customer_organisation(user)
    package = organisation.package
    environments = [
        {"id": e.id, "name": e.name, "type": e.type, "production": e.production}
        for e in organisation.environments
    ]
    if values is None:
        values = read_report(FormData())
        if len(environments) == 1:
            values["environment_id"] = str(environments[0]["id"])
    no_access = None
    try:
        service.check_entitlement(package, "web")
    except Forbidden as refusal:
        no_access = {
            "message": refusal.message,
            "channels": list(package.channels),
            "phone": package.phone_number,
        }
    return {
        "page_title": "Report a critical issue",
        "organisation": organisation.name,
        "package": {
            "name": package.name,
            "hours": calendar_of(package).describe() if package.desk_access else None,
            "phone": package.phone_number,
        },
        "environments": environments,
        "impacts": IMPACT_FIELDS,
        "breadths": rules.BREADTHS,
        "values": values,
        "errors": errors,
        "no_access": no_access,
        "preview": None if no_access else preview_context(db=db, user=user, values=values, now=now),
    }


@router.get("/cases/new")
def report_form(request: Request, db: DbSession, user: PageUser, now: Now) -> HTMLResponse:
    context = report_context(db=db, user=user, values=None, errors={}, now=now)
    return render(request, "case/new.html", context)


@router.post("/cases/new/preview")
def report_preview(
    request: Request, db: DbSession, user: PageUser, now: Now, form: Form
) -> HTMLResponse:
    preview = preview_context(db=db, user=user, values=read_report(form), now=now)
    return render_fragment(request, "case/_preview.html", {"preview": preview})


@router.post("/cases/new", response_model=None)
def report_submit(
    request: Request, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> HTMLResponse | RedirectResponse:
    service.check_entitlement(_customer_organisation(user).package, "web")
    values = read_report(form)
    new, errors = parse_report(values)
    status_code = 422
    if new is not None:
        try:
            case, _created = service.report_case(
                db=db,
                reporter=user,
                new=new,
                now=now,
                idempotency_key=f"web:{values['form_key']}",
                rate_limit_per_minute=settings.rate_limit_cases_per_minute,
            )
        except (Invalid, RateLimited) as refusal:
            db.rollback()
            key = "environment_id" if refusal.code == "unknown_environment" else "form"
            errors[key] = sentence(refusal.message)
            status_code = refusal.status_code
        else:
            response = RedirectResponse(f"/cases/{case.ref}", status_code=303)
            message = f"{case.ref} reported: an engineer will start investigating it."
            set_flash(response, "success", message, secure=settings.secure_cookies)
            return response
    context = report_context(db=db, user=user, values=values, errors=errors, now=now)
    return render(request, "case/new.html", context, status_code=status_code)


# --- the case list ----------------------------------------------------------------------


def list_context(
    *,
    cases: list[Case],
    next_id: int | None,
    viewer: User,
    state: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "page_title": "My cases" if viewer.is_customer else "All cases",
        "rows": [schemas.summary_view(c, now) for c in cases],
        "show_organisation": not viewer.is_customer,
        "states": ("open", *rules.STATES),
        "state": state or "",
        "next_cursor": encode_cursor(next_id),
        "can_report": viewer.is_customer,
    }


@router.get("/cases")
def case_list(
    request: Request,
    db: DbSession,
    user: PageUser,
    now: Now,
    state: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    chosen = state if state in ("open", *rules.STATES) else None
    filters = service.CaseFilters(
        state=None if chosen == "open" else chosen, open_only=chosen == "open"
    )
    cases, next_id = service.list_cases(
        db=db,
        viewer=user,
        filters=filters,
        limit=PAGE_SIZE,
        before_id=Pagination(limit=PAGE_SIZE, cursor=cursor).cursor_int(),
    )
    context = list_context(cases=cases, next_id=next_id, viewer=user, state=chosen, now=now)
    return render(request, "case/list.html", context)


# --- one case ---------------------------------------------------------------------------

EVENT_LABELS = {
    "reported": "reported the issue",
    "assigned": "assigned the case",
    "investigation_started": "started investigating",
    "assessed": "assessed the severity",
    "redirected": "redirected the case",
    "resolved": "resolved the case",
    "closed": "closed the case",
    "reopened": "reopened the case",
    "resolution_confirmed": "confirmed the resolution",
    "root_cause_recorded": "recorded the root cause",
}


def describe_event(event: dict[str, Any]) -> dict[str, Any]:
    """A timeline entry as read by people: who, what, when, and before → after."""
    changes, details = [], []
    for key, value in event["data"].items():
        if isinstance(value, list) and len(value) == 2 and not isinstance(value[0], dict):
            changes.append({"field": key, "before": value[0], "after": value[1]})
        elif key == "sla" and isinstance(value, dict):
            taken = value.get("business_seconds_taken")
            details.append({"field": "sla", "value": value.get("status"), "seconds": taken})
        elif key == "outcomes" and isinstance(value, list):
            details.extend({"field": "outcome", "value": o} for o in value)
        else:
            details.append({"field": key, "value": value})
    actor = event["actor"]
    return {
        "at": event["at"],
        "kind": event["kind"],
        "actor": actor["name"] if actor else "critdesk",
        "what": EVENT_LABELS.get(event["kind"], event["kind"].replace("_", " ")),
        "message": event["message"],
        "internal": event["internal"],
        "changes": changes,
        "details": details,
    }


def available_actions(viewer: User, case: Case) -> dict[str, bool]:
    """The action forms to show: the role checks of case.service, the states of TRANSITIONS."""
    handler = viewer.role in service.HANDLER_ROLES
    party = handler or (viewer.is_customer and viewer.organisation_id == case.organisation_id)

    def allowed(action: str) -> bool:
        sources = rules.TRANSITIONS.get(action)
        return sources is not None and case.state in sources[0]

    return {
        "assign_self": handler and allowed("assign") and case.owner_id != viewer.id,
        "assign_other": viewer.role in ("lead", "admin") and allowed("assign"),
        "start_investigation": handler and allowed("start_investigation"),
        "assess": handler and allowed("assess"),
        "redirect": handler and allowed("redirect"),
        "resolve": handler and allowed("resolve"),
        "close": party and allowed("close"),
        "confirm": viewer.is_customer and party and allowed("confirm"),
        "reopen": party and allowed("reopen"),
    }


def detail_context(*, db: Session, viewer: User, case: Case, now: datetime) -> dict[str, Any]:
    events = service.timeline(db=db, viewer=viewer, case=case)
    view = schemas.detail_view(case, events, now)
    actions = available_actions(viewer, case)
    engineers = (
        [{"email": u.email, "name": u.name} for u in service.assignable_engineers(db=db)]
        if actions["assign_other"]
        else []
    )
    return {
        "page_title": f"{case.ref} · {case.title}",
        "case": view,
        "package": case.package.name,
        "timeline": [describe_event(e) for e in view["timeline"]],
        "actions": actions,
        "any_action": any(actions.values()),
        "engineers": engineers,
        "severities": rules.SEVERITIES,
        "redirect_targets": rules.REDIRECT_TARGETS,
        "outcome_types": service.OUTCOME_TYPES,
        "is_handler": viewer.role in service.HANDLER_ROLES,
    }


@router.get("/cases/{ref}")
def case_detail(
    request: Request, ref: str, db: DbSession, user: PageUser, now: Now
) -> HTMLResponse:
    case = service.get_case(db=db, viewer=user, ref=ref)
    return render(
        request, "case/detail.html", detail_context(db=db, viewer=user, case=case, now=now)
    )


# --- actions: each runs the API's service function, then back to the case with a message --


@dataclass(frozen=True, slots=True)
class ActionInput:
    db: Session
    case: Case
    user: User
    now: datetime
    form: FormData
    settings: Settings


def _checked(schema: type[BaseModel], body: dict[str, Any]) -> Any:
    """The form checked by the API's own schema, so that a page accepts what the API accepts."""
    try:
        return schema.model_validate(body)
    except ValidationError as error:
        problems = []
        for problem in error.errors()[:3]:
            # The innermost named field: "text" of outcomes.0.text, not "outcomes".
            names = [str(part) for part in problem["loc"] if isinstance(part, str)]
            problems.append(f"{label(names[-1]) if names else 'Form'}: {problem['msg']}")
        raise Invalid("invalid_input", "; ".join(problems)) from error


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _assign(a: ActionInput) -> Case:
    body = _checked(schemas.AssignIn, {"engineer": field(a.form, "engineer", 254) or a.user.email})
    return service.assign(
        db=a.db, case=a.case, engineer_email=body.engineer, actor=a.user, now=a.now
    )


def _start_investigation(a: ActionInput) -> Case:
    return service.start_investigation(db=a.db, case=a.case, actor=a.user, now=a.now)


def _assess(a: ActionInput) -> Case:
    body = _checked(
        schemas.AssessIn,
        {"severity": field(a.form, "severity", 4), "reason": field(a.form, "reason")},
    )
    return service.assess(
        db=a.db, case=a.case, severity=body.severity, reason=body.reason, actor=a.user, now=a.now
    )


def _redirect(a: ActionInput) -> Case:
    body = _checked(
        schemas.RedirectIn,
        {
            "target": field(a.form, "target", 40),
            "message": field(a.form, "message"),
            "links": _lines(field(a.form, "links", 20_000)),
            "third_party": field(a.form, "third_party", 200) or None,
        },
    )
    return service.redirect(
        db=a.db,
        case=a.case,
        target=body.target,
        message=body.message,
        actor=a.user,
        now=a.now,
        links=[str(link) for link in body.links],
        third_party=body.third_party,
    )


def _resolve(a: ActionInput) -> Case:
    outcome = {
        "type": field(a.form, "outcome_type", 40),
        "text": field(a.form, "outcome_text"),
        "link": field(a.form, "outcome_link", 500) or None,
    }
    body = _checked(schemas.ResolveIn, {"outcomes": [outcome]})
    outcomes = [o.model_dump(exclude_none=True) for o in body.outcomes]
    return service.resolve(db=a.db, case=a.case, outcomes=outcomes, actor=a.user, now=a.now)


def _close(a: ActionInput) -> Case:
    return service.close(db=a.db, case=a.case, actor=a.user, now=a.now)


def _confirm(a: ActionInput) -> Case:
    return service.confirm(db=a.db, case=a.case, actor=a.user, now=a.now)


def _reopen(a: ActionInput) -> Case:
    body = _checked(schemas.ReopenIn, {"reason": field(a.form, "reason", 5000)})
    window = timedelta(days=a.settings.reopen_window_days)
    return service.reopen(
        db=a.db, case=a.case, actor=a.user, now=a.now, reason=body.reason, window=window
    )


ACTIONS: dict[str, tuple[Callable[[ActionInput], Case], str]] = {
    "assign": (_assign, "Case assigned."),
    "start_investigation": (
        _start_investigation,
        "Investigation started: the SLA clock has stopped.",
    ),
    "assess": (_assess, "Severity assessed."),
    "redirect": (_redirect, "Case redirected; the customer sees where to go."),
    "resolve": (_resolve, "Case resolved."),
    "close": (_close, "Case closed."),
    "confirm": (_confirm, "Thank you: the resolution is confirmed and the case closed."),
    "reopen": (_reopen, "Case reopened."),
}


@router.post("/cases/{ref}/actions/{action}")
def case_action(
    ref: str,
    action: str,
    db: DbSession,
    user: PageUser,
    now: Now,
    settings: AppSettings,
    form: Form,
) -> RedirectResponse:
    if action not in ACTIONS:
        raise NotFound("action")
    run, done = ACTIONS[action]
    case = service.get_case(db=db, viewer=user, ref=ref)
    response = RedirectResponse(f"/cases/{case.ref}", status_code=303)
    try:
        run(ActionInput(db, case, user, now, form, settings))
        db.flush()
    except DomainError as refusal:
        db.rollback()
        set_flash(response, "error", sentence(refusal.message), secure=settings.secure_cookies)
    except StaleDataError:
        db.rollback()
        message = "The case changed meanwhile; look at it again and retry."
        set_flash(response, "error", message, secure=settings.secure_cookies)
    else:
        set_flash(response, "success", done, secure=settings.secure_cookies)
    return response
