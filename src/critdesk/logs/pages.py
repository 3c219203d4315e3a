"""Log analyses on the case page: a panel (``templates/logs/_analysis.html``) and its route.

The panel lists each analysed file with its progress while it runs, then its ranked
signatures; a signature opens (``<details>``) on its samples, histogram and known bugs — no
script needed. ``GET /cases/{ref}/log-analyses`` shows the panel as a page of its own, or
just the panel with ``?fragment=1`` (for a page that refreshes it while analyses run).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from critdesk.audit.deps import AccessLog
from critdesk.auth.models import User
from critdesk.auth.pages import PageUser
from critdesk.case import service as case_service
from critdesk.case.models import Case
from critdesk.logs import service
from critdesk.templating import render, render_fragment
from critdesk.web import DbSession

router = APIRouter(include_in_schema=False)

SIGNATURES_SHOWN = 20


def analyses_panel(*, db: Session, viewer: User, case: Case) -> dict[str, Any]:
    """The panel's context: one entry per analysed file the viewer may see."""
    items = []
    for attachment, analysis in service.case_analyses(db=db, viewer=viewer, case=case):
        view = service.view(analysis, attachment, viewer)
        summary = view["summary"] or {}
        matches_by_signature: dict[str, list[dict[str, Any]]] = {}
        for match in view["matches"]:
            matches_by_signature.setdefault(match["signature_id"], []).append(match)
        signatures = [
            s
            | {
                "matches": matches_by_signature.get(s["id"], []),
                "peak": max((s["histogram"] or {}).get("per_minute") or [0]),
            }
            for s in summary.get("signatures", [])[:SIGNATURES_SHOWN]
        ]
        items.append(
            view
            | {
                "running": view["state"] in ("pending", "running"),
                "signatures": signatures,
                "summary": summary,
            }
        )
    return {
        "ref": case.ref,
        "items": items,
        "running": any(item["running"] for item in items),
        "refresh_url": f"/cases/{case.ref}/log-analyses?fragment=1",
    }


@router.get("/cases/{ref}/log-analyses")
def log_analyses_page(
    request: Request,
    ref: str,
    db: DbSession,
    user: PageUser,
    access: AccessLog,
    fragment: bool = False,
) -> HTMLResponse:
    case = case_service.get_case(db=db, viewer=user, ref=ref)
    context = {"log_analyses": analyses_panel(db=db, viewer=user, case=case)}
    access.viewed(user, case, "log_analysis.viewed")
    if fragment:
        return render_fragment(request, "logs/_analysis.html", context)
    return render(
        request,
        "logs/page.html",
        context | {"page_title": f"{case.ref} · log analysis", "case_ref": case.ref},
    )
