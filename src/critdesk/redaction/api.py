"""``POST /api/v1/redact``: a text with what the desk knows replaced by placeholders."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter

from critdesk.auth.deps import CurrentUser
from critdesk.redaction import service
from critdesk.redaction.schemas import RedactIn, RedactOut
from critdesk.web import DbSession

router = APIRouter(prefix="/api/v1/redact", tags=["redaction"])

# Reasons may quote what was matched ("known organisation 'Northwind Insurance'"); the API
# never sends an original back, so quoted parts are dropped.
_QUOTED = re.compile(r"\s*'[^']*'")


def public_reason(reason: str) -> str:
    return _QUOTED.sub("", reason)


@router.post("", response_model=RedactOut)
def redact(body: RedactIn, db: DbSession, user: CurrentUser) -> dict[str, Any]:
    result = service.redact_text(
        db=db, actor=user, text=body.text, organisation_id=body.organisation_id
    )
    return {
        "text": result.text,
        "replacements": [
            {
                "category": r.category,
                "placeholder": r.placeholder,
                "start": r.start,
                "end": r.end,
                "reason": public_reason(r.reason),
            }
            for r in result.replacements
        ],
    }
