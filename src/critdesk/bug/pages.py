"""Bug report pages: the list and one bug (customers see public fields and only their own cases),
the engineers' forms — file a report (complete, or a draft that says what is missing), file one
from a case with live duplicate suggestions, link and unlink cases, move a bug through its
states — and the "known issues" panel of a case page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from critdesk.auth.models import User
from critdesk.auth.pages import Form, PageUser, field
from critdesk.bug import rules, service
from critdesk.bug.api import bug_view
from critdesk.bug.models import BUG_STATES, Bug
from critdesk.bug.schemas import BugFields, StateIn
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.case.pages import ANSWERS, case_path, checked, lines, run_form
from critdesk.case.rules import SEVERITIES
from critdesk.config import Settings
from critdesk.errors import DomainError, Forbidden
from critdesk.templating import label, render, sentence, set_flash
from critdesk.web import AppSettings, DbSession, Now, Pagination, encode_cursor

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
TEXT_FIELDS = (
    "product",
    "component",
    "title",
    "description",
    "steps_to_reproduce",
    "expected",
    "actual",
    "workaround",
)
ENVIRONMENT_FIELDS = ("deployment_type", "product_version", "database", "browser", "other")
DEPLOYMENT_TYPES = ("on_premises", "gateway", "cloud")
FIELD_MESSAGES = {
    "title": "Give the bug a title of 5 to 300 characters.",
    "description": "Describe the defect.",
    "severity": "Choose the bug's severity.",
}


def _require_engineer(user: User) -> None:
    if user.role not in cases.HANDLER_ROLES:
        raise Forbidden("engineers_only", "only engineers and leads write bug reports")


# --- the case page's "known issues" -----------------------------------------------------------


def known_issues(*, db: Session, viewer: User, case: Case, now: datetime) -> dict[str, Any]:
    """The bugs linked to a case: the public view for a customer, the full one for staff."""
    bugs = service.bugs_of_case(db=db, case=case, viewer=viewer)
    handler = viewer.role in cases.HANDLER_ROLES
    return {
        "items": [bug_view(db, viewer, b, now) for b in bugs],
        "can_manage": handler,
        "new_url": f"/cases/{case.ref}/bugs/new",
    }


@router.post("/cases/{ref}/bugs/link")
def link_from_case(
    ref: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> RedirectResponse:
    case = cases.get_case(db=db, viewer=user, ref=ref)

    def run() -> str:
        bug = service.get_bug(db=db, viewer=user, key=field(form, "bug", 20))
        service.link_case(db=db, bug=bug, case=case, actor=user, now=now)
        return f"{case.ref} is linked to {bug.key}; the customer sees it under known issues."

    return run_form(db=db, settings=settings, to=case_path(case, "known-issues"), run=run)


@router.post("/cases/{ref}/bugs/{key}/unlink")
def unlink_from_case(
    ref: str, key: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings
) -> RedirectResponse:
    case = cases.get_case(db=db, viewer=user, ref=ref)

    def run() -> str:
        bug = service.get_bug(db=db, viewer=user, key=key)
        service.unlink_case(db=db, bug=bug, case=case, actor=user, now=now)
        return f"{bug.key} unlinked from {case.ref}."

    return run_form(db=db, settings=settings, to=case_path(case, "known-issues"), run=run)


# --- the bug list -----------------------------------------------------------------------------


def list_context(
    *,
    db: Session,
    viewer: User,
    rows: list[Bug],
    next_id: int | None,
    filters: service.BugFilters,
    now: datetime,
) -> dict[str, Any]:
    return {
        "page_title": "Known issues" if viewer.is_customer else "Bug reports",
        "rows": [bug_view(db, viewer, b, now) for b in rows],
        "states": BUG_STATES,
        "severities": SEVERITIES,
        "filters": {
            "state": filters.state or "",
            "severity": filters.severity or "",
            "q": filters.text or "",
        },
        "next_cursor": encode_cursor(next_id),
        "can_create": viewer.role in cases.HANDLER_ROLES,
    }


@router.get("/bugs")
def bug_list(
    request: Request,
    db: DbSession,
    user: PageUser,
    now: Now,
    state: Annotated[str | None, Query(max_length=20)] = None,
    severity: Annotated[str | None, Query(max_length=2)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    filters = service.BugFilters(
        state=state if state in BUG_STATES else None,
        severity=severity if severity in SEVERITIES else None,
        text=(q or "").strip() or None,
    )
    rows, next_id = service.list_bugs(
        db=db,
        viewer=user,
        filters=filters,
        limit=PAGE_SIZE,
        before_id=Pagination(limit=PAGE_SIZE, cursor=cursor).cursor_int(),
    )
    context = list_context(db=db, viewer=user, rows=rows, next_id=next_id, filters=filters, now=now)
    return render(request, "bug/list.html", context)


# --- filing a report --------------------------------------------------------------------------


def read_bug(form: FormData) -> dict[str, Any]:
    """The bug form as typed, kept to fill the form again after a refusal."""
    values: dict[str, Any] = {name: field(form, name) for name in TEXT_FIELDS}
    values["affected_versions"] = field(form, "affected_versions", 2000)
    values["severity"] = field(form, "severity", 2)
    values["public"] = bool(field(form, "public", 5))
    values["environment"] = {name: field(form, f"env_{name}", 2000) for name in ENVIRONMENT_FIELDS}
    values["production"] = field(form, "env_production", 3)
    values["submit"] = field(form, "intent", 10) != "draft"
    return values


def draft_values(draft: dict[str, Any]) -> dict[str, Any]:
    """``service.draft_from_case`` as the form's values."""
    environment = draft.get("environment") or {}
    production = environment.get("production")
    return {name: draft.get(name) or "" for name in TEXT_FIELDS} | {
        "affected_versions": ", ".join(draft.get("affected_versions") or []),
        "severity": draft.get("severity") or "",
        "public": bool(draft.get("public")),
        "environment": {name: str(environment.get(name) or "") for name in ENVIRONMENT_FIELDS},
        "production": "" if production is None else ("yes" if production else "no"),
        "submit": True,
    }


def _versions(text: str) -> list[str]:
    return [v.strip() for line in lines(text) for v in line.split(",") if v.strip()]


def parse_bug(values: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The answers checked by the API's own schema: (fields for the service, messages)."""
    environment = {k: v.strip() for k, v in values["environment"].items() if v.strip()}
    if values["production"] in ANSWERS:
        environment["production"] = ANSWERS[values["production"]]
    payload = {name: values[name].strip() or None for name in TEXT_FIELDS} | {
        "product": values["product"].strip() or "Platform",
        "title": values["title"],
        "description": values["description"],
        "affected_versions": _versions(values["affected_versions"]),
        "environment": environment,
        "severity": values["severity"] or None,
        "public": values["public"],
    }
    try:
        body = BugFields.model_validate(payload)
    except ValidationError as error:
        messages: dict[str, str] = {}
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "form"
            messages.setdefault(name, FIELD_MESSAGES.get(name, sentence(problem["msg"])))
        return None, messages
    fields = body.model_dump()
    fields["environment"] = body.environment.model_dump(exclude_none=True)
    return fields, {}


def form_context(
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    missing: list[str],
    case: dict[str, str] | None,
) -> dict[str, Any]:
    return {
        "page_title": f"Bug report from {case['ref']}" if case else "New bug report",
        "values": values,
        "errors": errors,
        "missing": missing,
        "case": case,
        "severities": SEVERITIES,
        "deployment_types": DEPLOYMENT_TYPES,
        "action": f"/cases/{case['ref']}/bugs/new" if case else "/bugs/new",
        "link_url": f"/cases/{case['ref']}/bugs/link" if case else "",
    }


def _file(
    request: Request,
    db: Session,
    user: User,
    now: datetime,
    settings: Settings,
    form: FormData,
    case: Case | None,
) -> Response:
    """Files the report (and links the case); a refusal comes back as the form, kept."""
    shown = {"ref": case.ref, "title": case.title} if case is not None else None
    values = read_bug(form)
    fields, errors = parse_bug(values)
    missing: list[str] = []
    if fields is not None:
        try:
            bug = service.create_bug(
                db=db, actor=user, fields=fields, submit=values["submit"], now=now
            )
            if case is not None:
                service.link_case(db=db, bug=bug, case=case, actor=user, now=now)
            db.flush()
        except DomainError as refusal:
            db.rollback()
            missing = list(refusal.details.get("missing", []))
            if not missing:
                errors["form"] = sentence(refusal.message)
        else:
            return _filed(bug, case, settings)
    context = form_context(values=values, errors=errors, missing=missing, case=shown)
    return render(request, "bug/form.html", context, status_code=422)


def _filed(bug: Bug, case: Case | None, settings: Settings) -> RedirectResponse:
    to = case_path(case, "known-issues") if case is not None else f"/bugs/{bug.key}"
    response = RedirectResponse(to, status_code=303)
    if bug.submitted_at is not None:
        message = f"{bug.key} submitted" + (f" and linked to {case.ref}." if case else ".")
    else:
        lacking = ", ".join(rules.missing_fields(service.report_fields(bug)))
        message = f"{bug.key} saved as a draft; to submit it, add: {lacking}."
    set_flash(response, "success", message, secure=settings.secure_cookies)
    return response


@router.get("/bugs/new")
def new_bug_form(request: Request, user: PageUser) -> HTMLResponse:
    _require_engineer(user)
    values = draft_values({"product": "Platform"})
    context = form_context(values=values, errors={}, missing=[], case=None)
    return render(request, "bug/form.html", context)


@router.post("/bugs/new", response_model=None)
def new_bug(
    request: Request, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> Response:
    _require_engineer(user)
    return _file(request, db, user, now, settings, form, None)


@router.get("/cases/{ref}/bugs/new")
def bug_from_case_form(request: Request, ref: str, db: DbSession, user: PageUser) -> HTMLResponse:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    draft = service.draft_from_case(db=db, case=case, viewer=user)
    shown = {"ref": case.ref, "title": case.title}
    context = form_context(values=draft_values(draft), errors={}, missing=[], case=shown)
    return render(request, "bug/form.html", context)


@router.post("/cases/{ref}/bugs/new", response_model=None)
def bug_from_case(
    request: Request,
    ref: str,
    db: DbSession,
    user: PageUser,
    now: Now,
    settings: AppSettings,
    form: Form,
) -> Response:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    _require_engineer(user)
    return _file(request, db, user, now, settings, form, case)


# --- one bug ----------------------------------------------------------------------------------


def detail_context(*, db: Session, viewer: User, bug: Bug, now: datetime) -> dict[str, Any]:
    handler = viewer.role in cases.HANDLER_ROLES
    return {
        "page_title": f"{bug.key} · {bug.title}",
        "bug": bug_view(db, viewer, bug, now),
        "is_engineer": handler,
        "next_states": sorted(rules.TRANSITIONS.get(bug.state, ())) if handler else [],
        "is_draft": bug.submitted_at is None,
    }


@router.get("/bugs/{key}")
def bug_detail(request: Request, key: str, db: DbSession, user: PageUser, now: Now) -> HTMLResponse:
    bug = service.get_bug(db=db, viewer=user, key=key)
    return render(request, "bug/detail.html", detail_context(db=db, viewer=user, bug=bug, now=now))


def _bug_form(
    key: str, db: Session, user: User, settings: Settings, act: Callable[[Bug], str]
) -> RedirectResponse:
    bug = service.get_bug(db=db, viewer=user, key=key)
    return run_form(db=db, settings=settings, to=f"/bugs/{bug.key}", run=lambda: act(bug))


@router.post("/bugs/{key}/state")
def change_state(
    key: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> RedirectResponse:
    def act(bug: Bug) -> str:
        body = checked(
            StateIn,
            {
                "state": field(form, "state", 20),
                "fix_version": field(form, "fix_version", 40).strip() or None,
                "duplicate_of": field(form, "duplicate_of", 20).strip() or None,
            },
        )
        service.change_state(
            db=db,
            bug=bug,
            actor=user,
            state=body.state,
            now=now,
            fix_version=body.fix_version,
            duplicate_of=body.duplicate_of,
        )
        told = " Every linked case is told." if body.state in rules.CLOSING_STATES else ""
        return f"{bug.key} is now {label(body.state).lower()}.{told}"

    return _bug_form(key, db, user, settings, act)


@router.post("/bugs/{key}/submit")
def submit(
    key: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings
) -> RedirectResponse:
    def act(bug: Bug) -> str:
        service.submit_bug(db=db, bug=bug, actor=user, now=now)
        return f"{bug.key} submitted; its fix target follows the Bug Fix Policy."

    return _bug_form(key, db, user, settings, act)


@router.post("/bugs/{key}/cases")
def link_case(
    key: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> RedirectResponse:
    def act(bug: Bug) -> str:
        _require_engineer(user)
        case = cases.get_case(db=db, viewer=user, ref=field(form, "case", 20).strip())
        service.link_case(db=db, bug=bug, case=case, actor=user, now=now)
        return f"{case.ref} linked to {bug.key}."

    return _bug_form(key, db, user, settings, act)


@router.post("/bugs/{key}/cases/{ref}/unlink")
def unlink_case(
    key: str, ref: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings
) -> RedirectResponse:
    def act(bug: Bug) -> str:
        case = cases.get_case(db=db, viewer=user, ref=ref)
        service.unlink_case(db=db, bug=bug, case=case, actor=user, now=now)
        return f"{case.ref} unlinked from {bug.key}."

    return _bug_form(key, db, user, settings, act)
