"""Recording staff views from read routes (``GET`` a case, its page, a log analysis).

A GET runs in a read-only unit of work. The view is written after the response, as a
background task in a short unit of work of its own: the request's connection is back in the
pool by then (a request never holds two connections, which under load could exhaust the pool),
and a busy or failing database only costs the record (logged and skipped), never the read the
person asked for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from sqlalchemy.orm import Session

from critdesk.attachment.models import Attachment
from critdesk.audit import access
from critdesk.auth.models import User
from critdesk.case.models import Case
from critdesk.db import Database
from critdesk.web import AppSettings, DbSession, Now

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccessRecorder:
    read_db: Session
    database: Database
    now: datetime
    window: timedelta
    tasks: BackgroundTasks

    def viewed(
        self,
        viewer: User,
        case: Case,
        action: str = "case.viewed",
        attachment: Attachment | None = None,
    ) -> None:
        if not viewer.is_staff:
            return
        key = access.mark_key(action, case, attachment)
        try:
            if self.window and access.recorded_since(
                db=self.read_db, actor=viewer, key=key, since=self.now - self.window
            ):
                return
        except Exception as error:  # the read goes on; the next view records it
            self._skipped(action, case, viewer, error)
            return
        self.tasks.add_task(self._record, viewer, case, action, attachment)

    def _record(self, viewer: User, case: Case, action: str, attachment: Attachment | None) -> None:
        try:
            with self.database.session() as db:
                access.record_view(
                    db=db,
                    viewer=viewer,
                    case=case,
                    action=action,
                    now=self.now,
                    window=self.window,
                    attachment=attachment,
                )
        except Exception as error:
            self._skipped(action, case, viewer, error)

    @staticmethod
    def _skipped(action: str, case: Case, viewer: User, error: Exception) -> None:
        log.warning(
            "access log: %s of %s by user %s not recorded (%s)",
            action,
            case.ref,
            viewer.id,
            type(error).__name__,
        )


def access_recorder(
    request: Request, db: DbSession, now: Now, settings: AppSettings, tasks: BackgroundTasks
) -> AccessRecorder:
    window = timedelta(minutes=settings.access_log_dedup_minutes)
    return AccessRecorder(db, request.app.state.db, now, window, tasks)


AccessLog = Annotated[AccessRecorder, Depends(access_recorder)]
