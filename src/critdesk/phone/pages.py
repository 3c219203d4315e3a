"""The engineer's phone page: find the caller, then record the call on a new or open case.

Two steps without any script: ``/phone?q=…`` lists the matching named contacts with their
entitlement; ``/phone?caller_id=…`` shows the call form for one of them. The form posts to
``/phone`` and calls the same service function as ``POST /api/v1/calls``.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from critdesk.auth.models import User
from critdesk.auth.pages import Form, PageUser, field
from critdesk.case import rules as case_rules
from critdesk.errors import DomainError, Invalid
from critdesk.phone import schemas, service
from critdesk.templating import render, sentence, set_flash
from critdesk.web import MAX_ID, AppSettings, DbSession, Now

router = APIRouter(include_in_schema=False)

IMPACT_FIELDS = ("app_unavailable", "security_vulnerability", "data_loss", "degraded")
ANSWERS = {"yes": True, "no": False}


def read_call(form: FormData) -> dict[str, Any]:
    """The call form as typed, kept to fill the form again after an error."""
    return {
        "case_ref": field(form, "case_ref", 20),
        "notes": field(form, "notes"),
        "title": field(form, "title", 400),
        "environment_id": field(form, "environment_id", 20),
        "impact": [name for name in IMPACT_FIELDS if field(form, name)],
        "breadth": field(form, "breadth", 40),
        "end_users_blocked": field(form, "end_users_blocked", 5),
        "form_key": field(form, "form_key", 64) or secrets.token_urlsafe(16),
    }


def parse_call(values: dict[str, Any]) -> schemas.CallIn:
    """The form checked by the API's own schema, so that the page accepts what the API does."""
    environment = values["environment_id"]
    payload: dict[str, Any] = {
        "notes": values["notes"],
        "case_ref": values["case_ref"] or None,
        "title": values["title"] or None,
        "environment_id": int(environment)
        if environment.isascii() and environment.isdigit() and len(environment) <= 9
        else None,
        "impact": {name: True for name in values["impact"]},
        "breadth": values["breadth"] or None,
        "end_users_blocked": ANSWERS.get(values["end_users_blocked"]),
    }
    try:
        return schemas.CallIn.model_validate(payload)
    except ValidationError as error:
        names = {str(p["loc"][0]) for p in error.errors() if p["loc"]}
        raise Invalid("invalid_input", f"please check: {', '.join(sorted(names))}") from error


def phone_context(
    *,
    db: Session,
    actor: User,
    region: str,
    query: str | None,
    caller_id: int | None,
    values: dict[str, Any] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    service.require_call_taker(actor)
    matches = []
    if query:
        found = service.find_contacts(db=db, actor=actor, query=query, region=region)
        matches = [schemas.contact_view(c, []) for c in found]
    caller = None
    environments: list[dict[str, Any]] = []
    if caller_id is not None:
        contact = service.get_contact(db=db, actor=actor, user_id=caller_id)
        assert contact.organisation is not None
        open_cases = service.open_cases(db=db, organisation_id=contact.organisation.id)
        caller = schemas.contact_view(contact, open_cases)
        environments = [
            {"id": e.id, "name": e.name, "production": e.production}
            for e in contact.organisation.environments
        ]
    if values is None:
        values = read_call(FormData())
        production = [e for e in environments if e["production"]]
        if len(production) == 1:
            values["environment_id"] = str(production[0]["id"])
    return {
        "page_title": "Record a phone call",
        "query": query or "",
        "matches": matches,
        "searched": bool(query),
        "caller": caller,
        "environments": environments,
        "impacts": IMPACT_FIELDS,
        "breadths": case_rules.BREADTHS,
        "values": values,
        "error": error,
    }


@router.get("/phone")
def phone_page(
    request: Request,
    db: DbSession,
    user: PageUser,
    settings: AppSettings,
    q: Annotated[str | None, Query(max_length=254)] = None,
    caller_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    context = phone_context(
        db=db,
        actor=user,
        region=settings.phone_default_region,
        query=q,
        caller_id=caller_id,
    )
    return render(request, "phone/index.html", context)


@router.post("/phone", response_model=None)
def phone_submit(
    request: Request, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> HTMLResponse | RedirectResponse:
    service.require_call_taker(user)
    caller_field = field(form, "caller_id", 20)
    caller_id = int(caller_field) if caller_field.isascii() and caller_field.isdigit() else None
    if caller_id is None:
        raise Invalid("caller_required", "choose the caller first")
    values = read_call(form)
    try:
        caller = service.get_contact(db=db, actor=user, user_id=caller_id)
        body = parse_call(values)
        case, created = service.record_call(
            db=db, actor=user, caller=caller, call=body.to_call(values["form_key"]), now=now
        )
    except DomainError as refusal:
        db.rollback()
        context = phone_context(
            db=db,
            actor=user,
            region=settings.phone_default_region,
            query=None,
            caller_id=caller_id,
            values=values,
            error=sentence(refusal.message),
        )
        return render(request, "phone/index.html", context, status_code=refusal.status_code)
    response = RedirectResponse(f"/cases/{case.ref}", status_code=303)
    done = f"{case.ref} opened from the call." if created else f"Call recorded on {case.ref}."
    set_flash(response, "success", done, secure=settings.secure_cookies)
    return response
