"""Server-rendered pages: every concept's page router, and the home page that picks one."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from critdesk.attachment.pages import router as attachment_pages
from critdesk.auth.pages import MaybePageUser, home_path
from critdesk.auth.pages import router as auth_pages
from critdesk.availability.pages import router as availability_pages
from critdesk.bug.pages import router as bug_pages
from critdesk.case.pages import router as case_pages
from critdesk.case.report_pages import router as report_pages
from critdesk.case.workspace_pages import router as workspace_pages
from critdesk.cloudaccess.pages import router as cloudaccess_pages
from critdesk.comment.pages import router as comment_pages
from critdesk.notification.pages import router as notification_pages
from critdesk.phone.pages import router as phone_pages
from critdesk.queue.pages import router as queue_pages
from critdesk.request.pages import router as request_pages
from critdesk.screenshare.pages import router as screenshare_pages

router = APIRouter(include_in_schema=False)
# The report form's /cases/new before the case page's /cases/{ref}; /bugs/new before /bugs/{key}
# is kept inside bug.pages.
for concept in (
    auth_pages,
    report_pages,
    case_pages,
    workspace_pages,
    queue_pages,
    availability_pages,
    phone_pages,
    request_pages,
    comment_pages,
    attachment_pages,
    screenshare_pages,
    cloudaccess_pages,
    bug_pages,
    notification_pages,
):
    router.include_router(concept)


@router.get("/")
def home(user: MaybePageUser) -> RedirectResponse:
    """Staff who handle cases land on the queue, everyone else on their cases."""
    return RedirectResponse(home_path(user.role) if user else "/login", status_code=303)
