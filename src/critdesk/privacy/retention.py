"""Removing attachments' files: by the retention policy, or when their uploader is erased.

A removal is two steps, so that no file is deleted for a change that then rolls back:

1. **remove** (``remove_attachment``) — in the caller's transaction, the row is claimed with
   a conditional update (``deleted_at`` still unset; for retention, the case still closed long
   enough), and only the claimant writes the timeline event and the audit record: with several
   runners each removal happens exactly once. The row stays; downloads then answer 410. The
   file's log analysis loses its summary (it quotes the file).
2. **purge** (``purge_removed``) — later, in a transaction of its own, the stored bytes of
   rows removed and committed before are deleted and ``purged_at`` is set. Deleting is
   idempotent, so a purge interrupted between the two is simply done again.

The periodic sweep (``sweep``, registered in ``jobs.periodic``) purges first, then removes the
next batch of files past retention; each pass's removals are purged by the next pass.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from critdesk.adapters.storage import LocalStorage, Storage, attachments_root
from critdesk.attachment.models import Attachment
from critdesk.audit import service as audit
from critdesk.auth.models import User
from critdesk.case import service as case_service
from critdesk.case.models import Case
from critdesk.config import Settings
from critdesk.logs.models import LogAnalysis
from critdesk.privacy import rules

log = logging.getLogger(__name__)

REMOVED_EVENT = "attachment_removed"
BATCH = 200
PURGE_BATCH = 500


def remove_attachment(
    *,
    db: Session,
    attachment_id: int,
    reason: str,
    now: datetime,
    actor: User | None = None,
    only_if: Any = None,
    retention_days: int | None = None,
) -> bool:
    """Marks the file removed, once: returns False if it already was (or ``only_if``, an
    extra condition on the row, no longer holds). Writes the timeline event and the audit
    record in the caller's transaction; the bytes go at the next purge."""
    statement = update(Attachment).where(
        Attachment.id == attachment_id, Attachment.deleted_at.is_(None)
    )
    if only_if is not None:
        statement = statement.where(only_if)
    claimed = db.execute(
        statement.values(deleted_at=now, deleted_reason=reason).execution_options(
            synchronize_session=False
        )
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        return False
    attachment = db.get(Attachment, attachment_id)
    assert attachment is not None
    db.refresh(attachment)
    _forget_analysis(db, attachment_id, now)
    case = db.get(Case, attachment.case_id)
    assert case is not None
    data = {"attachment_id": attachment.id, "name": attachment.name, "reason": reason}
    case_service.record_event(
        db=db,
        case=case,
        actor=actor,
        now=now,
        kind=REMOVED_EVENT,
        message=rules.removal_message(reason, retention_days),
        data=data,
        internal=attachment.internal,
    )
    audit.record(
        db=db,
        at=now,
        actor_id=actor.id if actor else None,
        action="attachment.removed",
        object_type="attachment",
        object_id=attachment.id,
        organisation_id=case.organisation_id,
        data={
            "case": case.ref,
            "name": attachment.name,
            "size": attachment.size,
            "sha256": attachment.sha256,
            "reason": reason,
        },
    )
    db.flush()
    return True


def _forget_analysis(db: Session, attachment_id: int, now: datetime) -> None:
    """A removed file's log analysis goes with it: its summary quotes the file's lines. One
    still pending or running is stopped (its runner's fenced writes then find it taken)."""
    db.execute(
        update(LogAnalysis)
        .where(LogAnalysis.attachment_id == attachment_id)
        .values(summary=None)
        .execution_options(synchronize_session=False)
    )
    db.execute(
        update(LogAnalysis)
        .where(
            LogAnalysis.attachment_id == attachment_id,
            LogAnalysis.state.in_(("pending", "running")),
        )
        .values(state="failed", reason="the file was removed", finished_at=now, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def apply_retention(*, db: Session, now: datetime, days: int, limit: int = BATCH) -> int:
    """Removes the files of cases closed ``days`` or more ago, up to ``limit`` of them;
    returns how many this call removed (0 with a retention of 0 days: keep forever)."""
    cutoff = rules.retention_cutoff(now, days)
    if cutoff is None:
        return 0
    expired = select(Case.id).where(Case.state == "closed", Case.closed_at <= cutoff)
    candidates = db.scalars(
        select(Attachment.id)
        .where(Attachment.deleted_at.is_(None), Attachment.case_id.in_(expired))
        .order_by(Attachment.id)
        .limit(limit)
    ).all()
    removed = 0
    for attachment_id in candidates:
        # Claimed only if the case is still closed as long: a case reopened meanwhile keeps
        # its files.
        removed += remove_attachment(
            db=db,
            attachment_id=attachment_id,
            reason=rules.RETENTION,
            now=now,
            only_if=Attachment.case_id.in_(expired),
            retention_days=days,
        )
    return removed


def purge_removed(*, db: Session, storage: Storage, now: datetime, limit: int = PURGE_BATCH) -> int:
    """Deletes the stored bytes of removed rows committed before this transaction began;
    returns how many were purged."""
    rows = db.execute(
        select(Attachment.id, Attachment.storage_key)
        .where(Attachment.deleted_at.is_not(None), Attachment.purged_at.is_(None))
        .order_by(Attachment.id)
        .limit(limit)
    ).all()
    purged = 0
    for attachment_id, key in rows:
        try:
            storage.delete(key)
        except OSError:
            log.exception("could not delete the stored file of attachment %s", attachment_id)
            continue
        purged += db.execute(
            update(Attachment)
            .where(Attachment.id == attachment_id, Attachment.purged_at.is_(None))
            .values(purged_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    return purged


def sweep(db: Session, now: datetime, settings: Settings) -> int:
    """One pass of the retention job: purge what earlier passes removed, then remove the next
    batch. Deleting needs no key, so the plain local store does."""
    storage = LocalStorage(attachments_root(settings))
    purged = purge_removed(db=db, storage=storage, now=now)
    return purged + apply_retention(db=db, now=now, days=settings.attachment_retention_days)
