"""The case page: the troubleshooting workspace, composed from every concept's panel.

Whom the case waits on, the info requests, the conversation, the files, screen-sharing, cloud
access and the known issues each come from their own concept's ``pages`` module as a plain
context dict; this module only loads what several panels share (files, comments) once and
puts the panels together. Customers get the same page without the engineers' forms, notes
and internal files.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from critdesk.attachment.models import Attachment
from critdesk.attachment.pages import case_files, file_view, files_panel
from critdesk.audit.deps import AccessLog
from critdesk.auth.models import User
from critdesk.auth.pages import PageUser
from critdesk.bug.pages import known_issues
from critdesk.case import rules, schemas, service
from critdesk.case.models import Case, CaseEvent
from critdesk.case.pages import available_actions, describe_event
from critdesk.cloudaccess.pages import cloud_panel
from critdesk.comment.pages import case_comments, conversation_panel
from critdesk.config import Settings
from critdesk.logs.pages import analyses_panel
from critdesk.request.pages import requests_panel
from critdesk.screenshare.pages import screenshare_panel
from critdesk.templating import render
from critdesk.web import AppSettings, DbSession, Now

router = APIRouter(include_in_schema=False)

EXCERPT_CHARS = 90


def waiting_banner(
    view: dict[str, Any], viewer: User, requests: dict[str, Any], now: datetime
) -> dict[str, Any] | None:
    """ "Waiting on the customer since …" — worded for whoever reads it."""
    waiting = view["waiting"]
    if waiting is None:
        return None
    on, customer = waiting["on"], viewer.is_customer
    if on == "customer":
        who = "you" if customer else "the customer"
    else:
        who = "our engineers" if customer else "us"
    state = view["state"]
    if state == "resolved":
        why = "to confirm the resolution works, or to reopen the case"
    elif state == "awaiting_customer":
        count, overdue = requests["open_count"], requests["overdue_count"]
        why = f"{count} open request{'s' if count != 1 else ''}"
        why += f", {overdue} overdue" if overdue else ""
    elif state == "new":
        why = "to start investigating"
    else:
        why = "investigating"
    return {
        "on": on,
        "who": who,
        "since": waiting["since"],
        "seconds": (now - waiting["since"]).total_seconds(),
        "why": why,
    }


def evidence_choices(
    files: list[Attachment], comments: list[CaseEvent], root_cause: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """What the root cause form offers as evidence: the case's own files and comments."""
    recorded = {(e["type"], e["id"]) for e in (root_cause or {}).get("evidence", [])}
    choices = [
        {
            "value": f"attachment:{a.id}",
            "type": "attachment",
            "id": a.id,
            "text": a.name,
            "meta": f"{a.kind} · {a.uploaded_by.name}",
            "internal": a.internal,
        }
        for a in files
    ]
    for comment in comments:
        body = (comment.message or "").strip().replace("\n", " ")
        excerpt = body if len(body) <= EXCERPT_CHARS else body[:EXCERPT_CHARS].rstrip() + "…"
        choices.append(
            {
                "value": f"comment:{comment.id}",
                "type": "comment",
                "id": comment.id,
                "text": excerpt,
                "meta": comment.actor.name if comment.actor else "critdesk",
                "internal": comment.internal,
            }
        )
    for choice in choices:
        choice["chosen"] = (choice["type"], choice["id"]) in recorded
    return choices


def root_cause_evidence(
    root_cause: dict[str, Any] | None, choices: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The recorded evidence the viewer may see (a customer's page omits internal items)."""
    if not root_cause:
        return []
    known = {(c["type"], c["id"]): c for c in choices}
    found = (known.get((e["type"], e["id"])) for e in root_cause.get("evidence", []))
    return [c for c in found if c is not None]


def detail_context(
    *, db: Session, viewer: User, case: Case, now: datetime, settings: Settings
) -> dict[str, Any]:
    events = service.timeline(db=db, viewer=viewer, case=case)
    view = schemas.detail_view(case, events, now)
    actions = available_actions(viewer, case)
    handler = viewer.role in service.HANDLER_ROLES
    files = case_files(db=db, viewer=viewer, case=case)
    file_views = {a.id: file_view(a, case) for a in files}
    comments = case_comments(db=db, viewer=viewer, case=case)
    requests = requests_panel(
        db=db, viewer=viewer, case=case, now=now, files=file_views, settings=settings
    )
    open_requests = [r for r in requests["items"] if r["state"] == "open"]
    choices = evidence_choices(files, comments, case.root_cause)
    issues = known_issues(db=db, viewer=viewer, case=case, now=now)
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
        "root_cause_categories": rules.ROOT_CAUSE_CATEGORIES,
        "is_handler": handler,
        "waiting": waiting_banner(view, viewer, requests, now),
        "log_analyses": analyses_panel(db=db, viewer=viewer, case=case),
        "requests": requests,
        "conversation": conversation_panel(comments=comments, viewer=viewer),
        "files": files_panel(
            files=list(file_views.values()),
            viewer=viewer,
            open_requests=open_requests,
            settings=settings,
        ),
        "screenshare": screenshare_panel(
            db=db, viewer=viewer, case=case, now=now, open_requests=open_requests
        ),
        "cloud": cloud_panel(db=db, viewer=viewer, case=case, now=now, settings=settings),
        "known_issues": issues,
        "evidence": choices,
        "root_cause_evidence": root_cause_evidence(view.get("root_cause"), choices),
        "bug_keys": [b["key"] for b in issues["items"]],
    }


@router.get("/cases/{ref}")
def case_detail(
    request: Request,
    ref: str,
    db: DbSession,
    user: PageUser,
    now: Now,
    settings: AppSettings,
    access: AccessLog,
) -> HTMLResponse:
    case = service.get_case(db=db, viewer=user, ref=ref)
    context = detail_context(db=db, viewer=user, case=case, now=now, settings=settings)
    access.viewed(user, case)  # staff reads go on the organisation's access log
    return render(request, "case/detail.html", context)
