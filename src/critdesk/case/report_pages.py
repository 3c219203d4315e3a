"""The report form: a customer describes an issue and sees, while typing, what the desk would
decide (severity, qualification, when investigation starts).

Each route parses the form, calls the same service function as the API and hands a plain
context dict to its template; the ``*_context`` functions are tested without any HTML.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from critdesk.aup import service as aup
from critdesk.auth.models import User
from critdesk.auth.pages import Form, PageUser, field
from critdesk.case import rules, schemas, service
from critdesk.errors import Forbidden, Invalid, RateLimited
from critdesk.package.service import calendar_of
from critdesk.templating import render, render_fragment, sentence, set_flash
from critdesk.web import AppSettings, DbSession, Now

router = APIRouter(include_in_schema=False)

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
            case = service.report_case(
                db=db,
                reporter=user,
                new=new,
                now=now,
                idempotency_key=f"web:{values['form_key']}",
                rate_limits=aup.case_limits(settings),
            ).case
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
