"""Server-rendered pages: every concept's page router, and the home page that picks one."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from critdesk.auth.pages import MaybePageUser, home_path
from critdesk.auth.pages import router as auth_pages
from critdesk.case.pages import router as case_pages
from critdesk.queue.pages import router as queue_pages

router = APIRouter(include_in_schema=False)
for concept in (auth_pages, case_pages, queue_pages):
    router.include_router(concept)


@router.get("/")
def home(user: MaybePageUser) -> RedirectResponse:
    """Staff who handle cases land on the queue, everyone else on their cases."""
    return RedirectResponse(home_path(user.role) if user else "/login", status_code=303)
