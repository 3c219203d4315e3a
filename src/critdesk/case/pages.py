"""Case pages: the case list, the case's actions, and the form plumbing every case form shares.

The case page itself (the troubleshooting workspace) is ``case.workspace_pages``; the report
form is ``case.report_pages``. Every form here and in the other concepts' pages follows one
pattern: parse the form, check it with the API's own schema, call the same service function
as the API, then back to the case with a message (``run_form``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.datastructures import FormData

from critdesk.auth.models import User
from critdesk.auth.pages import Form, PageUser, field, viewer_of
from critdesk.case import rules, schemas, service
from critdesk.case.models import Case
from critdesk.config import Settings
from critdesk.errors import DomainError, Invalid, NotFound
from critdesk.templating import label, render, sentence, set_flash
from critdesk.web import AppSettings, DbSession, Now, Pagination, encode_cursor

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
ANSWERS = {"yes": True, "no": False}


# --- the form plumbing shared by every case form ----------------------------------------------


def run_form(
    *, db: Session, settings: Settings, to: str, run: Callable[[], str]
) -> RedirectResponse:
    """Runs a form's service call; back to ``to`` with its message, or with the refusal's."""
    response = RedirectResponse(to, status_code=303)
    try:
        done = run()
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


def checked(schema: type[BaseModel], body: dict[str, Any]) -> Any:
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


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def page_zone(user: User) -> str:
    """The zone the viewer's pages show times in, and so the one their time inputs mean."""
    return str(viewer_of(user)["timezone"])


def local_datetime(text: str, zone: str, what: str) -> datetime | None:
    """A ``datetime-local`` input ("2026-11-25T14:30") read as a time in ``zone``."""
    text = text.strip()
    if not text:
        return None
    try:
        naive = datetime.fromisoformat(text)
    except ValueError as error:
        raise Invalid("invalid_time", f"{what}: enter a date and a time") from error
    if naive.tzinfo is not None:
        return naive
    tz = ZoneInfo(zone)
    local = naive.replace(tzinfo=tz)
    # A time in the hour skipped when the clocks go forward does not exist: refuse, not guess.
    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise Invalid(
            "nonexistent_time",
            f"{what}: {naive:%d %b %H:%M} does not exist in {zone} (the clocks go forward)",
        )
    return local


def case_path(case: Case, section: str = "") -> str:
    return f"/cases/{case.ref}" + (f"#{section}" if section else "")


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


# --- the timeline as people read it ---------------------------------------------------------

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
    "info_requested": "asked the customer",
    "info_request_answered": "answered an info request",
    "info_request_cancelled": "cancelled an info request",
    "info_request_reminder": "sent a reminder",
    "info_requests_cancelled": "cancelled the open info requests",
    "comment": "commented",
    "attachment_added": "attached a file",
    "screen_share_proposed": "proposed a screen-sharing session",
    "screen_share_accepted": "accepted a screen-sharing slot",
    "screen_share_notes": "recorded the screen-sharing notes",
    "screen_share_cancelled": "cancelled a screen-sharing session",
    "cloud_access_opened": "opened cloud access",
    "cloud_access_revoked": "revoked cloud access",
    "cloud_access_expired": "cloud access expired",
    "bug_linked": "linked a bug report",
    "bug_unlinked": "unlinked a bug report",
    "bug_fixed": "a linked bug was fixed",
    "bug_released": "a linked bug's fix was released",
}
# Ids and lists the case page shows in their own panels; the timeline leaves them out.
QUIET_DETAILS = frozenset(
    {"attachment_id", "attachment_ids", "request_id", "screen_share", "cloud_access", "slots"}
)
TIME_DETAILS = frozenset({"expires_at", "start", "end"})


def _detail(key: str, value: Any) -> dict[str, Any] | None:
    if key in QUIET_DETAILS or value in (None, [], {}):
        return None
    if key == "request" and isinstance(value, dict):
        return {"field": key, "value": f"{label(value.get('kind', ''))} request"}
    if key == "evidence" and isinstance(value, list):
        return {"field": key, "value": f"{len(value)} item{'s' if len(value) != 1 else ''}"}
    if key in TIME_DETAILS and isinstance(value, str):
        try:
            return {"field": key, "at": datetime.fromisoformat(value)}
        except ValueError:
            return {"field": key, "value": value}
    if isinstance(value, bool):
        return {"field": key, "value": "yes" if value else "no"}
    if key == "size" and isinstance(value, int):
        return {"field": key, "value": human_size(value)}
    return {"field": key, "value": value}


def human_size(size: int) -> str:
    """ "512 bytes", "12.3 KB", "1.5 GB" (powers of 1024, as file managers show them)."""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


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
        elif (detail := _detail(key, value)) is not None:
            details.append(detail)
    actor = event["actor"]
    what = EVENT_LABELS.get(event["kind"], event["kind"].replace("_", " "))
    if event["kind"] == "comment" and event["internal"]:
        what = "wrote an internal note"
    return {
        "at": event["at"],
        "kind": event["kind"],
        "actor": actor["name"] if actor else "critdesk",
        "what": what,
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
        return rules.allows(action, case.state)

    return {
        "assign_self": handler and allowed("assign") and case.owner_id != viewer.id,
        "assign_other": viewer.role in ("lead", "admin") and allowed("assign"),
        "start_investigation": handler and allowed("start_investigation"),
        "assess": handler and allowed("assess"),
        "root_cause": handler and allowed("record_root_cause"),
        "redirect": handler and allowed("redirect"),
        "resolve": handler and allowed("resolve"),
        "close": party and allowed("close"),
        "confirm": viewer.is_customer and party and allowed("confirm"),
        "reopen": party and allowed("reopen"),
    }


# --- actions: each runs the API's service function, then back to the case with a message --


@dataclass(frozen=True, slots=True)
class ActionInput:
    db: Session
    case: Case
    user: User
    now: datetime
    form: FormData
    settings: Settings


def _assign(a: ActionInput) -> Case:
    body = checked(schemas.AssignIn, {"engineer": field(a.form, "engineer", 254) or a.user.email})
    return service.assign(
        db=a.db, case=a.case, engineer_email=body.engineer, actor=a.user, now=a.now
    )


def _start_investigation(a: ActionInput) -> Case:
    return service.start_investigation(db=a.db, case=a.case, actor=a.user, now=a.now)


def _assess(a: ActionInput) -> Case:
    body = checked(
        schemas.AssessIn,
        {"severity": field(a.form, "severity", 4), "reason": field(a.form, "reason")},
    )
    return service.assess(
        db=a.db, case=a.case, severity=body.severity, reason=body.reason, actor=a.user, now=a.now
    )


def _redirect(a: ActionInput) -> Case:
    target = field(a.form, "target", 40)
    # Only the chosen target's own fields count: links left typed under "Documentation"
    # before switching to the Forum are not sent along.
    body = checked(
        schemas.RedirectIn,
        {
            "target": target,
            "message": field(a.form, "message"),
            "links": lines(field(a.form, "links", 20_000)) if target == "documentation" else [],
            "third_party": (field(a.form, "third_party", 200) or None)
            if target == "third_party_support"
            else None,
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


# The resolve form's one text box per outcome; any of them, at least one.
OUTCOME_FIELDS = (
    ("resolution_advised", "advice"),
    ("workaround_provided", "workaround"),
    ("bug_reported", "bug_text"),
)


def read_outcomes(form: FormData) -> list[dict[str, Any]]:
    outcomes = []
    for kind, name in OUTCOME_FIELDS:
        text = field(form, name).strip()
        link = field(form, "bug_link", 500).strip() if kind == "bug_reported" else ""
        if not (text or link):
            continue
        if not text:
            raise Invalid("outcome_text_required", f"{label(kind)}: write what the customer reads")
        outcomes.append({"type": kind, "text": text} | ({"link": link} if link else {}))
    if not outcomes:
        raise Invalid(
            "outcome_required",
            "write at least one outcome: resolution advice, a workaround or a bug report",
        )
    return outcomes


def _resolve(a: ActionInput) -> Case:
    body = checked(schemas.ResolveIn, {"outcomes": read_outcomes(a.form)})
    outcomes = [o.model_dump(exclude_none=True) for o in body.outcomes]
    return service.resolve(db=a.db, case=a.case, outcomes=outcomes, actor=a.user, now=a.now)


def read_evidence(form: FormData) -> list[dict[str, Any]]:
    """The ticked evidence: ``attachment:12`` and ``comment:34`` checkboxes."""
    evidence = []
    for value in form.getlist("evidence")[:50]:
        kind, _, ident = str(value).partition(":")
        if kind not in ("attachment", "comment") or not (
            ident.isascii() and ident.isdigit() and len(ident) < 19
        ):
            raise Invalid("invalid_evidence", "evidence is a file or a comment of this case")
        evidence.append({"type": kind, "id": int(ident)})
    return evidence


def _root_cause(a: ActionInput) -> Case:
    defect = ANSWERS.get(field(a.form, "product_defect", 5))
    if defect is None:
        raise Invalid("product_defect_required", "say whether it is a defect in the product")
    body = checked(
        schemas.RootCauseIn,
        {
            "category": field(a.form, "category", 40),
            "summary": field(a.form, "summary"),
            "product_defect": defect,
            "evidence": read_evidence(a.form),
        },
    )
    return service.record_root_cause(
        db=a.db,
        case=a.case,
        actor=a.user,
        category=body.category,
        summary=body.summary,
        product_defect=body.product_defect,
        evidence=[e.model_dump() for e in body.evidence],
        now=a.now,
    )


def _close(a: ActionInput) -> Case:
    return service.close(db=a.db, case=a.case, actor=a.user, now=a.now)


def _confirm(a: ActionInput) -> Case:
    return service.confirm(db=a.db, case=a.case, actor=a.user, now=a.now)


def _reopen(a: ActionInput) -> Case:
    body = checked(schemas.ReopenIn, {"reason": field(a.form, "reason", 5000)})
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
    "root_cause": (_root_cause, "Root cause recorded."),
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
    action_input = ActionInput(db, case, user, now, form, settings)

    def act() -> str:
        run(action_input)
        return done

    return run_form(db=db, settings=settings, to=case_path(case), run=act)
