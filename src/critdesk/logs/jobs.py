"""The background job: claim pending analyses, stream each stored file, record the result.

``analyse_pending`` is the job; the embedded runner (``jobs.periodic``) and procrastinate
workers call it as one of the periodic sweeps (``sweep``). Per analysis:

1. **claim** — a conditional update (``pending``, or ``running`` with an expired lease, and
   fewer than ``MAX_ATTEMPTS`` tries) whose row count is checked: two runners never both own
   a row; committed at once;
2. **analyse** — the file streams from storage through ``analysis.Analyzer`` with no
   transaction open (a long one would hold SQLite's writer lock for the whole file);
   progress and a renewed lease are written every ``PROGRESS_SECONDS`` in short
   transactions fenced by ``claimed_by``;
3. **finish** — the summary, the known-issue matches and their timeline events, in one
   transaction fenced the same way; a failure leaves ``failed`` with a reason a person can
   read. The worker never raises for a bad file.

A runner that dies mid-file leaves its lease to expire; the row is claimed again later.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from critdesk.adapters.storage import Storage, storage_from_settings
from critdesk.attachment.models import Attachment
from critdesk.case.models import Case
from critdesk.config import Settings
from critdesk.db import Database
from critdesk.logs import service
from critdesk.logs.analysis import Analyzer, Options
from critdesk.logs.matching import KnownIssues, known_issues_for
from critdesk.logs.models import LogAnalysis
from critdesk.logs.reader import CountingReader, NotText
from critdesk.observability.context import bound_request_id

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]

LEASE = timedelta(minutes=5)
PROGRESS_SECONDS = 1.0
MAX_ATTEMPTS = 3
# A sweep stops claiming new files after this long (the file in hand is finished).
BUDGET_SECONDS = 60.0


class _LostClaim(Exception):
    """Another runner owns the row now (our lease expired): stop, write nothing more."""


@dataclass(frozen=True)
class _Work:
    id: int
    attempt: int
    storage_key: str
    name: str
    size: int
    reported_at: datetime | None
    # The upload's request id: the analysis logs under it.
    request_id: str | None = None


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def analyse_pending(
    database: Database,
    now: datetime,
    storage: Storage,
    *,
    clock: Clock | None = None,
    known_issues: KnownIssues | None = None,
    budget_seconds: float = BUDGET_SECONDS,
    worker: str | None = None,
) -> int:
    """Analyses every claimable file, one at a time, until none is left or the budget is
    spent; returns how many were finished (done or failed)."""
    clock = clock or (lambda: now)
    worker = worker or runner_name()
    started = time.monotonic()
    finished = 0
    while time.monotonic() - started < budget_seconds:
        work = _claim(database, clock(), worker)
        if work is None:
            break
        try:
            issues = known_issues or known_issues_for(database)
            with bound_request_id(work.request_id):
                _run(database, storage, work, worker, clock, issues)
            finished += 1
        except _LostClaim:
            log.warning("log analysis %s was claimed by another runner", work.id)
    return finished


def sweep(db: Session, now: datetime, settings: Settings) -> int:
    """``analyse_pending`` as one of ``jobs.periodic``'s sweeps.

    The runner's session is left unused: an analysis commits its claim, progress and result
    in short transactions of its own, on the same engine.
    """
    database = Database(db.get_bind())  # type: ignore[arg-type]
    storage = storage_from_settings(settings)
    return analyse_pending(database, now, storage)


# --- claiming ------------------------------------------------------------------------------------


def _claimable(now: datetime) -> Any:
    return or_(
        LogAnalysis.state == "pending",
        (LogAnalysis.state == "running") & (LogAnalysis.lease_until < now),
    )


def _claim(database: Database, now: datetime, worker: str) -> _Work | None:
    with database.session(read_only=True) as db:
        candidates = list(
            db.scalars(
                select(LogAnalysis.id).where(_claimable(now)).order_by(LogAnalysis.id).limit(5)
            )
        )
    for analysis_id in candidates:
        with database.session() as db:
            row = db.get(LogAnalysis, analysis_id)
            if row is None:
                continue
            attempt = row.attempts + 1
            claimed = db.execute(
                update(LogAnalysis)
                .where(
                    LogAnalysis.id == analysis_id,
                    LogAnalysis.attempts == row.attempts,
                    _claimable(now),
                )
                .values(
                    state="running",
                    claimed_by=worker,
                    attempts=attempt,
                    lease_until=now + LEASE,
                    started_at=now,
                    progress_bytes=0,
                )
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if claimed != 1:
                continue
            if attempt > MAX_ATTEMPTS:
                _fail(db, analysis_id, worker, now, _gave_up(row.attempts))
                continue
            return _work(db, analysis_id, attempt)
    return None


def _gave_up(attempts: int) -> str:
    return (
        f"the analysis stopped {attempts} times without finishing (a crash or a restart of "
        "the worker); it is not tried again"
    )


def _work(db: Session, analysis_id: int, attempt: int) -> _Work:
    row = db.get(LogAnalysis, analysis_id)
    assert row is not None
    attachment = db.get(Attachment, row.attachment_id)
    case = db.get(Case, row.case_id)
    assert attachment is not None and case is not None
    return _Work(
        id=analysis_id,
        attempt=attempt,
        storage_key=attachment.storage_key,
        name=attachment.name,
        size=attachment.size,
        reported_at=case.reported_at,
        request_id=row.request_id,
    )


def _fenced(analysis_id: int, worker: str) -> Any:
    return update(LogAnalysis).where(
        LogAnalysis.id == analysis_id,
        LogAnalysis.claimed_by == worker,
        LogAnalysis.state == "running",
    )


def _fail(db: Session, analysis_id: int, worker: str, now: datetime, reason: str) -> None:
    db.execute(
        _fenced(analysis_id, worker)
        .values(state="failed", reason=reason[:2000], finished_at=now, lease_until=None)
        .execution_options(synchronize_session=False)
    )


# --- running ------------------------------------------------------------------------------


def _run(
    database: Database,
    storage: Storage,
    work: _Work,
    worker: str,
    clock: Clock,
    known_issues: KnownIssues,
) -> None:
    try:
        summary = _analyse(database, storage, work, worker, clock)
    except _LostClaim:
        raise
    except _Refused as refusal:
        with database.session() as db:
            _fail(db, work.id, worker, clock(), str(refusal))
        return
    except Exception as error:  # the worker never crashes on a file
        log.exception("log analysis %s failed", work.id)
        with database.session() as db:
            _fail(db, work.id, worker, clock(), f"the analysis failed unexpectedly: {error!r}")
        return
    _finish(database, work, worker, clock(), summary, known_issues)


class _Refused(Exception):
    """The file cannot be analysed; the message says why, for a person."""


def _analyse(
    database: Database, storage: Storage, work: _Work, worker: str, clock: Clock
) -> dict[str, Any]:
    try:
        raw = storage.open_read(work.storage_key)
    except FileNotFoundError as error:
        raise _Refused("the stored file is missing") from error
    reported = work.reported_at
    analyzer = Analyzer(Options(reported_at=reported, year=(reported or clock()).year))
    with raw:
        counting = CountingReader(raw)
        progress = _Progress(database, work, worker, counting, clock)
        try:
            analyzer.add_file(counting, work.name, on_block=progress)  # type: ignore[arg-type]
        except NotText as error:
            raise _Refused(str(error)) from error
    summary = analyzer.summary()
    if summary["lines"] == 0:
        reason = "; ".join(summary["warnings"]) or "the file holds no log lines (it is empty)"
        raise _Refused(reason)
    return summary


class _Progress:
    """Called after each block of lines: every second, records the bytes read and renews the
    lease, in a short transaction; raises ``_LostClaim`` if the row is no longer ours."""

    def __init__(
        self, database: Database, work: _Work, worker: str, counting: CountingReader, clock: Clock
    ) -> None:
        self.database, self.work, self.worker = database, work, worker
        self.counting, self.clock = counting, clock
        self.last = time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self.last < PROGRESS_SECONDS:
            return
        self.last = time.monotonic()
        with self.database.session() as db:
            updated = db.execute(
                _fenced(self.work.id, self.worker)
                .values(
                    progress_bytes=min(self.counting.count, self.work.size),
                    lease_until=self.clock() + LEASE,
                )
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
        if updated != 1:
            raise _LostClaim()


def _finish(
    database: Database,
    work: _Work,
    worker: str,
    now: datetime,
    summary: dict[str, Any],
    known_issues: KnownIssues,
) -> None:
    with database.session() as db:
        try:
            matches = [m.view() for m in known_issues.match(db, summary["signatures"])]
        except Exception:  # matching is a bonus: the analysis stands without it
            log.exception("known-issue matching failed for log analysis %s", work.id)
            matches = []
            summary["warnings"] = [*summary["warnings"], "known-issue matching failed"]
        summary["matches"] = matches
        updated = db.execute(
            _fenced(work.id, worker)
            .values(
                state="done",
                summary=summary,
                progress_bytes=work.size,
                finished_at=now,
                lease_until=None,
                reason=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if updated != 1:
            raise _LostClaim()
        analysis = db.get(LogAnalysis, work.id)
        assert analysis is not None
        service.record_matches(db=db, analysis=analysis, matches=matches, now=now)
