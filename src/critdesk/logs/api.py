"""Log analysis routes: thin — parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from critdesk.attachment.api import AttachmentId
from critdesk.audit.deps import AccessLog
from critdesk.auth.deps import CurrentUser
from critdesk.logs import schemas, service
from critdesk.web import DbSession

router = APIRouter(prefix="/api/v1/cases", tags=["attachments"])


@router.get("/{ref}/attachments/{attachment_id}/analysis", response_model=schemas.AnalysisOut)
def get_analysis(
    ref: str, attachment_id: AttachmentId, db: DbSession, user: CurrentUser, access: AccessLog
) -> dict[str, Any]:
    """The log analysis of a file: its progress while it runs, then the ranked signatures,
    their samples and the known bugs they match. Same permissions as the file itself."""
    case, attachment, analysis = service.get_analysis(
        db=db, viewer=user, ref=ref, attachment_id=attachment_id
    )
    view = service.view(analysis, attachment, user)
    access.viewed(user, case, "log_analysis.viewed", attachment)
    return view
