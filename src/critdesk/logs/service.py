"""Log analysis use cases: queue one with an upload, read it, record its known-issue matches.

Permissions are the attachment's: the analysis of a file is visible exactly to those who may
see the file (``attachment.service.get_attachment``: the case's organisation first, so that
anything else is a 404, and never an internal file for a customer). A customer sees only the
matches with bugs that are public. Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from critdesk.attachment import service as attachment_service
from critdesk.attachment.models import Attachment
from critdesk.auth.models import User
from critdesk.case import service as case_service
from critdesk.case.models import Case, CaseEvent
from critdesk.errors import NotFound
from critdesk.logs.models import LogAnalysis

ANALYSED_KINDS = frozenset({"log", "archive"})
MATCH_EVENT = "known_issue_matched"
TOP_SIGNATURES = 5


def queue_for_attachment(
    *, db: Session, attachment: Attachment, now: datetime
) -> LogAnalysis | None:
    """A pending analysis for a log or archive upload, in the upload's own transaction."""
    if attachment.kind not in ANALYSED_KINDS:
        return None
    analysis = LogAnalysis(
        attachment_id=attachment.id,
        case_id=attachment.case_id,
        state="pending",
        progress_bytes=0,
        total_bytes=attachment.size,
        attempts=0,
        created_at=now,
    )
    db.add(analysis)
    return analysis


def get_analysis(
    *, db: Session, viewer: User, ref: str, attachment_id: int
) -> tuple[Case, Attachment, LogAnalysis]:
    case, attachment = attachment_service.get_attachment(
        db=db, viewer=viewer, ref=ref, attachment_id=attachment_id
    )
    analysis = db.scalar(select(LogAnalysis).where(LogAnalysis.attachment_id == attachment.id))
    if analysis is None:
        raise NotFound("log analysis")
    return case, attachment, analysis


def view(analysis: LogAnalysis, attachment: Attachment, viewer: User) -> dict[str, Any]:
    """The analysis as the API and the pages show it to ``viewer``."""
    summary = dict(analysis.summary or {})
    matches = list(summary.pop("matches", []))
    if viewer.is_customer:
        matches = [m for m in matches if m.get("public")]
    return {
        "attachment_id": attachment.id,
        "name": attachment.name,
        "state": analysis.state,
        "progress": {
            "bytes": analysis.progress_bytes,
            "total": analysis.total_bytes,
            "percent": _percent(analysis),
        },
        "reason": analysis.reason,
        "attempts": analysis.attempts,
        "created_at": analysis.created_at,
        "started_at": analysis.started_at,
        "finished_at": analysis.finished_at,
        "summary": summary if analysis.state == "done" else None,
        "matches": matches,
    }


def _percent(analysis: LogAnalysis) -> float:
    if analysis.state == "done":
        return 100.0
    if not analysis.total_bytes:
        return 0.0
    return round(min(100.0, 100.0 * analysis.progress_bytes / analysis.total_bytes), 1)


def case_analyses(*, db: Session, viewer: User, case: Case) -> list[tuple[Attachment, LogAnalysis]]:
    """The analyses of the case's files the viewer may see, newest file first."""
    query = (
        select(Attachment, LogAnalysis)
        .join(LogAnalysis, LogAnalysis.attachment_id == Attachment.id)
        .where(Attachment.case_id == case.id, Attachment.deleted_at.is_(None))
        .order_by(Attachment.id.desc())
    )
    if viewer.is_customer:
        query = query.where(Attachment.internal.is_(False))
    return [(a, la) for a, la in db.execute(query)]


def top_signatures(db: Session, case: Case, limit: int = TOP_SIGNATURES) -> list[str]:
    """The case's strongest log signatures (fingerprints), best first: what a bug created
    from the case should carry so that the next log with them finds it."""
    scored: dict[str, float] = {}
    rows = db.scalars(
        select(LogAnalysis)
        .join(Attachment, Attachment.id == LogAnalysis.attachment_id)
        .where(
            LogAnalysis.case_id == case.id,
            LogAnalysis.state == "done",
            Attachment.deleted_at.is_(None),
        )
    )
    for analysis in rows:
        for signature in (analysis.summary or {}).get("signatures", []):
            if (
                signature.get("severity") not in ("fatal", "error")
                and signature["kind"] != "exception"
            ):
                continue
            fingerprint = signature["fingerprint"]
            scored[fingerprint] = max(scored.get(fingerprint, 0.0), float(signature["score"]))
    return sorted(scored, key=lambda f: (-scored[f], f))[:limit]


def record_matches(
    *, db: Session, analysis: LogAnalysis, matches: list[dict[str, Any]], now: datetime
) -> int:
    """One ``known_issue_matched`` timeline event per bug and case, the first time only.

    Internal: engineers decide what a match means before the customer hears of it.
    """
    if not matches:
        return 0
    case = case_service.load_case(db, analysis.case_id)
    events = db.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == MATCH_EVENT)
    )
    known = {event.data.get("bug_id") for event in events}
    added = 0
    for match in matches:
        if match["bug_id"] in known:
            continue
        known.add(match["bug_id"])
        case_service.record_event(
            db=db,
            case=case,
            actor=None,
            now=now,
            kind=MATCH_EVENT,
            message=f"{match['key']} ({match['state']}) matches a log signature",
            data={
                "bug_id": match["bug_id"],
                "bug": match["key"],
                "state": match["state"],
                "fix_version": match["fix_version"],
                "workaround": match["workaround"],
                "how": match["how"],
                "fingerprint": match["fingerprint"][:500],
                "attachment_id": analysis.attachment_id,
            },
            internal=True,
        )
        added += 1
    return added
