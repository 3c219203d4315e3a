"""Info requests on the case page: the engineer asks, with the fields each kind needs and a due
time; the customer answers inline — a message, a test's pass or fail, and for logs and exports
the file in the same form (uploaded first, then the answer carries its id)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from critdesk.attachment.api import AppStorage
from critdesk.attachment.pages import FormFields, PageUpload, PageUploader, upload_form
from critdesk.auth.models import User
from critdesk.auth.pages import Form, PageUser, field
from critdesk.case import rules as case_rules
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.case.pages import case_path, checked, lines, local_datetime, page_zone, run_form
from critdesk.config import Settings
from critdesk.errors import Invalid
from critdesk.request import service
from critdesk.request.models import REQUEST_KINDS, InfoRequest
from critdesk.request.schemas import AnswerIn, RequestIn, request_view
from critdesk.web import MAX_ID, AppSettings, DbSession, Now, get_now

router = APIRouter(include_in_schema=False)

RequestId = Annotated[int, Path(ge=1, le=MAX_ID)]
KIND_LABELS = {
    "question": "Question",
    "test": "Test to run",
    "logs": "Log files",
    "artifact": "Export (Entity, Project or Workspace)",
    "screen_share": "Screen-sharing session",
}
# The logs an engineer usually needs; anything else goes in "other logs".
LOG_CHOICES = (
    "Runtime (application server) logs",
    "Web server / reverse proxy logs",
    "Database logs",
    "Gateway logs",
    "Third-party integration logs",
    "Browser console and network (HAR) export",
)
ARTIFACT_TYPES = ("entity", "project", "workspace")
FILE_KINDS = frozenset({"logs", "artifact"})


# --- the panel ------------------------------------------------------------------------------


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def item_view(
    request: InfoRequest, ids: list[int], files: dict[int, dict[str, Any]], now: datetime
) -> dict[str, Any]:
    view = request_view(request, ids, now)
    details = view["details"]
    return view | {
        "kind_label": KIND_LABELS.get(request.kind, request.kind),
        "steps": details.get("steps") or [],
        "expected": details.get("expected"),
        "logs": details.get("logs") or [],
        "window_start": _when(details.get("window_start")),
        "window_end": _when(details.get("window_end")),
        "artifact_type": details.get("artifact_type"),
        "artifact_name": details.get("name"),
        "last_reminded_at": request.last_reminded_at,
        "cancelled_at": request.cancelled_at,
        "files": [files[i] for i in ids if i in files],
        "takes_file": request.kind in FILE_KINDS,
    }


def requests_panel(
    *,
    db: Session,
    viewer: User,
    case: Case,
    now: datetime,
    files: dict[int, dict[str, Any]],
    settings: Settings,
) -> dict[str, Any]:
    found = service.list_requests(db=db, case=case)
    ids = service.attachment_ids(db=db, requests=found, viewer=viewer)
    items = [item_view(r, ids[r.id], files, now) for r in found]
    # Open ones first, the soonest due on top; then the answered and cancelled, newest first.
    open_items = sorted(
        (r for r in items if r["state"] == "open"), key=lambda r: (r["due_at"] or now, r["id"])
    )
    closed = sorted((r for r in items if r["state"] != "open"), key=lambda r: -r["id"])
    handler = viewer.role in cases.HANDLER_ROLES
    party = viewer.is_customer or handler
    return {
        "items": open_items + closed,
        "open_count": len(open_items),
        "overdue_count": sum(1 for r in open_items if r["overdue"]),
        "can_ask": handler and case_rules.allows("request_info", case.state),
        "can_answer": party and case_rules.allows("request_info", case.state),
        "can_cancel": handler,
        "kinds": [(k, KIND_LABELS[k]) for k in REQUEST_KINDS],
        "log_choices": LOG_CHOICES,
        "artifact_types": ARTIFACT_TYPES,
        "default_due": now + timedelta(hours=settings.info_request_due_hours),
        "default_due_hours": settings.info_request_due_hours,
    }


# --- asking -----------------------------------------------------------------------------------


def read_request(form: FormData, zone: str) -> Any:
    """The ask form as the API's RequestIn: only the chosen kind's own fields count."""
    kind = field(form, "kind", 20)
    details: dict[str, Any] = {}
    if kind == "test":
        details = {
            "steps": lines(field(form, "steps", 20_000)),
            "expected": field(form, "expected", 5000).strip() or None,
        }
    elif kind == "logs":
        chosen = [v for v in form.getlist("logs") if isinstance(v, str) and v.strip()][:10]
        details = {
            "logs": chosen + lines(field(form, "other_logs", 5000))[:10],
            "window_start": local_datetime(field(form, "window_start", 40), zone, "Logs from"),
            "window_end": local_datetime(field(form, "window_end", 40), zone, "Logs until"),
        }
    elif kind == "artifact":
        artifact = field(form, "artifact_type", 20)
        if artifact not in ARTIFACT_TYPES:
            raise Invalid(
                "artifact_type_required", "say whether you need an Entity, Project or Workspace"
            )
        details = {"artifact_type": artifact, "name": field(form, "artifact_name", 200) or None}
    return checked(
        RequestIn,
        {
            "kind": kind,
            "message": field(form, "message"),
            "details": {k: v for k, v in details.items() if v is not None},
            "due_at": local_datetime(field(form, "due_at", 40), zone, "Due"),
        },
    )


@router.post("/cases/{ref}/requests")
def open_request(
    ref: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> RedirectResponse:
    case = cases.get_case(db=db, viewer=user, ref=ref)

    def ask() -> str:
        body = read_request(form, page_zone(user))
        service.open_request(
            db=db,
            case=case,
            actor=user,
            kind=body.kind,
            message=body.message,
            details=body.details.model_dump(exclude_none=True),
            due_at=body.due_at,
            now=now,
            default_due=timedelta(hours=settings.info_request_due_hours),
        )
        return f"{KIND_LABELS[body.kind]} request sent: the case now waits on the customer."

    return run_form(db=db, settings=settings, to=case_path(case, "requests"), run=ask)


# --- answering and cancelling ------------------------------------------------------------------


def _answer(
    db: Session,
    case: Case,
    user: User,
    request_id: int,
    values: dict[str, str],
    attachment_ids: list[int],
    now: datetime,
) -> str:
    request = service.get_request(db=db, case=case, request_id=request_id)
    body = checked(AnswerIn, {"message": values["message"], "result": values["result"] or None})
    service.answer_request(
        db=db,
        case=case,
        request=request,
        actor=user,
        message=body.message,
        attachment_ids=attachment_ids,
        test_result=body.result,
        now=now,
    )
    files = f" with {len(attachment_ids)} file" if attachment_ids else ""
    told = user.is_customer and case.state == "investigating"
    waiting = " The engineer has been told." if told else ""
    return f"Answer sent{files}.{waiting}"


@router.post("/cases/{ref}/requests/{request_id}/answer")
def answer_request(
    ref: str,
    request_id: RequestId,
    db: DbSession,
    user: PageUser,
    now: Now,
    settings: AppSettings,
    form: Form,
) -> RedirectResponse:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    values = {"message": field(form, "message", 20_000), "result": field(form, "result", 10)}
    return run_form(
        db=db,
        settings=settings,
        to=case_path(case, f"request-{request_id}"),
        run=lambda: _answer(db, case, user, request_id, values, [], now),
    )


def _message_given(fields: FormFields) -> None:
    if not fields.get("message").strip():
        raise Invalid("message_required", "write a short answer to go with the file")


@router.post("/cases/{ref}/requests/{request_id}/attachments")
async def answer_with_file(
    ref: str,
    request_id: RequestId,
    request: Request,
    db: DbSession,
    caller: PageUploader,
    settings: AppSettings,
    storage: AppStorage,
) -> RedirectResponse:
    """The answer form of a logs or export request: its file is stored, then the answer
    refers to it; a refused answer leaves no file behind."""

    def answer(upload: PageUpload) -> tuple[str, str]:
        values = {
            "message": upload.fields.get("message", 20_000),
            "result": upload.fields.get("result", 10),
        }
        ids = [upload.attachment.id] if upload.attachment is not None else []
        done = _answer(db, upload.case, upload.user, request_id, values, ids, get_now(request))
        return done, f"request-{request_id}"

    return await upload_form(
        request,
        db=db,
        caller=caller,
        ref=ref,
        settings=settings,
        storage=storage,
        section=f"request-{request_id}",
        file_optional=True,
        then=answer,
        check=_message_given,
    )


@router.post("/cases/{ref}/requests/{request_id}/cancel")
def cancel_request(
    ref: str,
    request_id: RequestId,
    db: DbSession,
    user: PageUser,
    now: Now,
    settings: AppSettings,
    form: Form,
) -> RedirectResponse:
    case = cases.get_case(db=db, viewer=user, ref=ref)

    def cancel() -> str:
        request = service.get_request(db=db, case=case, request_id=request_id)
        reason = field(form, "reason", 2000)
        service.cancel_request(
            db=db, case=case, request=request, actor=user, reason=reason, now=now
        )
        return "Request cancelled."

    return run_form(db=db, settings=settings, to=case_path(case, "requests"), run=cancel)
