"""The desk strip at the top of every page, and the customer's "when is the desk open" page.

The strip tells a customer whether the desk is open now and, when closed, when an engineer
starts investigating; it gives the phone number where the package has one. Engineers see a
link to record a phone call there instead. The layout includes ``availability/_strip.html``;
its context comes from ``strip_context``, added to every page by a Jinja2 context processor
with a short read-only unit of work of its own, so that it works on any page, error pages
included, whatever state the page's own session is in.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from critdesk.auth.models import User
from critdesk.auth.pages import PageUser
from critdesk.availability import service
from critdesk.case.service import HANDLER_ROLES
from critdesk.templating import render, templates
from critdesk.web import MAX_ID, DbSession, Now

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


def strip_context(*, db: Session, email: str, now: datetime) -> dict[str, Any] | None:
    """What the strip shows the viewer with this e-mail address (None: nothing)."""
    user = db.scalar(select(User).where(User.email == email))
    if user is None:
        return None
    if user.role in HANDLER_ROLES:
        return {"kind": "staff"}
    if not user.is_customer or user.organisation is None:
        return None
    facts = service.package_availability(user.organisation.package, now)
    return {"kind": "customer"} | facts


def _desk_strip(request: Request) -> dict[str, Any]:
    viewer = getattr(request.state, "viewer", None)
    if not viewer:
        return {"desk_strip": None}
    try:
        with request.app.state.db.session(read_only=True) as db:
            strip = strip_context(db=db, email=viewer["email"], now=request.app.state.clock())
    except SQLAlchemyError:
        # The strip decorates the page; a database that cannot be read must not also break
        # the page that says so.
        log.exception("the desk strip could not be read")
        strip = None
    return {"desk_strip": strip}


if _desk_strip not in templates.context_processors:
    templates.context_processors.append(_desk_strip)


@router.get("/availability")
def availability_page(
    request: Request,
    db: DbSession,
    user: PageUser,
    now: Now,
    organisation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """A package's desk: open now or when, the hours, and how to reach it."""
    facts = service.availability_for(db=db, viewer=user, organisation_id=organisation_id, now=now)
    return render(request, "availability/index.html", {"page_title": "Desk hours", "desk": facts})
