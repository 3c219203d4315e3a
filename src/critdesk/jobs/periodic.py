"""The periodic sweeps, the outbox drain, and the embedded runner that calls them inside
``critdesk serve``.

Each sweep finds what is due from columns (no sleeping timers), claims every row with a
conditional update and acts once, so any number of runners — embedded runners in several
server processes, procrastinate workers (jobs/worker.py) — may call them at the same time.
These functions are the jobs; the runners only decide when to call them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from contextvars import copy_context
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from critdesk.adapters import tracker as trackers
from critdesk.adapters.smtp import Mailer, mailer_from_url
from critdesk.adapters.webhook import HttpxWebhookSender, WebhookSender
from critdesk.audit import chain as audit_chain
from critdesk.bug import export
from critdesk.case.service import close_unconfirmed
from critdesk.cloudaccess.service import record_expiries
from critdesk.config import Settings
from critdesk.db import Database
from critdesk.jobs.pressure import HostLoad
from critdesk.logs import jobs as log_jobs
from critdesk.notification.jobs import Delivered, Transports, deliver_until_idle
from critdesk.observability.context import in_job
from critdesk.privacy import retention
from critdesk.request.service import remind_overdue
from critdesk.sla import jobs as sla_jobs

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Sweep:
    name: str
    run: Callable[[Session, datetime, Settings], int]
    # A sweep that takes a batch a unit of work: how many rows a full batch is (the sweep is
    # run again, in a new unit of work, after each full one).
    batch: Callable[[Session], int] | None = None


SWEEPS = (
    Sweep(
        "info_request_reminders",
        lambda db, now, s: remind_overdue(
            db=db, now=now, every=timedelta(hours=s.info_request_reminder_hours)
        ),
    ),
    Sweep("cloud_access_expiry", lambda db, now, s: record_expiries(db=db, now=now)),
    Sweep(
        "close_unconfirmed",
        lambda db, now, s: close_unconfirmed(
            db=db, now=now, window=timedelta(days=s.reopen_window_days)
        ),
    ),
    # Files of cases closed longer ago than CRITDESK_ATTACHMENT_RETENTION_DAYS.
    Sweep("attachment_retention", lambda db, now, s: retention.sweep(db, now, s)),
    # Seals the audit events committed so far (one sealer at a time; a busy one skips).
    Sweep(
        "audit_seal",
        lambda db, now, s: audit_chain.seal(db, now, limit=audit_chain.sweep_batch(db)),
        batch=audit_chain.sweep_batch,
    ),
    # Last: it streams whole files (its own short transactions; the session is unused).
    Sweep("log_analysis", lambda db, now, s: log_jobs.sweep(db, now, s)),
)
# Breaches first: a case found past both its warning and its breach gets only the breach.
SLA_SWEEPS = (
    Sweep(
        "sla_breaches",
        lambda db, now, s: sla_jobs.sweep_breaches(db=db, now=now),
        batch=sla_jobs.batch,
    ),
    Sweep(
        "sla_warnings",
        lambda db, now, s: sla_jobs.sweep_warnings(db=db, now=now),
        batch=sla_jobs.batch,
    ),
)


@in_job("sla_sweep")
def run_sla_sweeps(database: Database, settings: Settings, now: datetime) -> dict[str, int]:
    """Every due SLA warning and breach, one committed batch at a time until none is left.

    On PostgreSQL two loops claim batches side by side (SKIP LOCKED keeps them apart), so one
    batch's database work overlaps the next one's Python; SQLite has one writer anyway."""
    loops = 1 if database.engine.dialect.name == "sqlite" else 2
    done: dict[str, int] = {}
    for sweep in SLA_SWEEPS:
        if loops == 1:
            done[sweep.name] = _drain(sweep, database, settings, now)
            continue
        with ThreadPoolExecutor(loops, thread_name_prefix="critdesk-sla") as pool:
            # Each loop in a copy of this context: its lines and rows keep the sweep's job id.
            running = [
                pool.submit(copy_context().run, _drain, sweep, database, settings, now)
                for _ in range(loops)
            ]
            done[sweep.name] = sum(future.result() for future in running)
    return done


def _drain(sweep: Sweep, database: Database, settings: Settings, now: datetime) -> int:
    """The sweep, a unit of work at a time, until one takes less than a full batch."""
    claimed_in_all = 0
    try:
        while True:
            with database.session() as session:
                claimed = sweep.run(session, now, settings)
                full = sweep.batch is not None and claimed >= sweep.batch(session)
            claimed_in_all += claimed
            if not full:
                return claimed_in_all
    except Exception:
        log.exception("sweep %s failed; retrying on the next pass", sweep.name)
        return claimed_in_all


@in_job("sweeps")
def run_sweeps(database: Database, settings: Settings, now: datetime) -> dict[str, int]:
    """One pass of every sweep, each in its own unit of work; a failing sweep does not stop
    the others and is retried on the next pass."""
    done = run_sla_sweeps(database, settings, now)
    for sweep in SWEEPS:
        done[sweep.name] = _drain(sweep, database, settings, now)
    return done


def sync_trackers(database: Database, settings: Settings, now: datetime) -> dict[str, int]:
    """Pulls every tracked bug's state from each configured tracker (Jira, GitHub): moved
    bugs change state like an engineer's change, telling linked cases and webhooks. Each bug
    is its own unit of work, with no transaction open across the HTTP calls."""
    done: dict[str, int] = {}
    for name in trackers.configured(settings):
        try:
            with closing(trackers.tracker_from_settings(settings, name)) as tracker:
                results = export.sync_all_in_units(units=database.session, tracker=tracker, now=now)
        except Exception:
            log.exception("tracker sync with %s failed; retrying on the next pass", name)
            continue
        done[name] = sum(result.outcome == "changed" for result in results)
        for failed in (r for r in results if r.outcome == "failed"):
            log.warning("tracker sync: %s on %s failed: %s", failed.key, name, failed.message)
    return done


def transports_from(
    settings: Settings, *, mailer: Mailer | None = None, webhooks: WebhookSender | None = None
) -> Transports:
    return Transports(
        mailer or mailer_from_url(settings.smtp_url, timeout=settings.smtp_timeout_seconds),
        webhooks or HttpxWebhookSender(timeout=settings.webhook_timeout_seconds),
    )


@in_job("deliver")
def deliver(
    database: Database,
    settings: Settings,
    transports: Transports,
    clock: Clock,
    budget_seconds: float = 60.0,
    hold_routine: Callable[[], bool] | None = None,
) -> Delivered:
    """Drains the outbox: every due row, batch after batch, within the time budget (routine
    e-mail held while ``hold_routine()`` says so, see notification.jobs.deliver_due)."""
    try:
        return deliver_until_idle(
            database=database,
            settings=settings,
            transports=transports,
            clock=clock,
            budget_seconds=budget_seconds,
            hold_routine=hold_routine,
        )
    except Exception:
        log.exception("outbox delivery failed; retrying on the next pass")
        return Delivered()


@dataclass
class _Schedule:
    every: float
    run: Callable[[], object]
    last: float = field(default=-1e18)
    # Work that may wait while the host is busy (``hold()``), for at most ``held_at_most``
    # seconds past its time: the pass is tried again on each tick meanwhile.
    hold: Callable[[], bool] | None = None
    held_at_most: float = 0.0
    held_since: float | None = None

    def due(self, now: float) -> bool:
        if now - self.last < self.every:
            return False
        if self.hold is None:
            return True
        if self.held_since is None:
            self.held_since = now
        if now - self.held_since < self.held_at_most and self.hold():
            return False
        self.held_since = None
        return True


class EmbeddedRunner:
    """Runs the jobs in a daemon thread of the server process: the SLA sweeps every
    ``sla_sweep_seconds``, the other sweeps every ``interval`` seconds, and the outbox drain
    every ``outbox_poll_seconds`` and right after each SLA sweep (so a breach goes out at once).
    While other processes keep the host's processors busy (the API workers under a burst),
    routine e-mail and the other sweeps wait, at most ``outbox_routine_hold_seconds``.
    """

    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: Clock,
        interval: float,
        *,
        mailer: Mailer | None = None,
        webhooks: WebhookSender | None = None,
    ) -> None:
        self.database, self.settings, self.clock = database, settings, clock
        self.transports = transports_from(settings, mailer=mailer, webhooks=webhooks)
        # It shares the host with the API workers: routine e-mail and the sweeps other than
        # the SLA's wait while they keep the processors busy (jobs/pressure.py), for at most
        # outbox_routine_hold_seconds.
        self.host = HostLoad(settings.host_busy_threshold)
        held_at_most = settings.outbox_routine_hold_seconds
        hold = self._hold = self.host.busy if held_at_most > 0 else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="critdesk-jobs", daemon=True)
        budget = self.delivery_budget = max(settings.outbox_poll_seconds, 5.0)
        self._schedules = [
            _Schedule(settings.sla_sweep_seconds, self._sla_then_deliver),
            _Schedule(
                interval,
                lambda: run_sweeps(database, settings, clock()),
                hold=hold,
                held_at_most=held_at_most,
            ),
            _Schedule(
                settings.outbox_poll_seconds,
                lambda: deliver(database, settings, self.transports, clock, budget, hold),
            ),
        ]
        if settings.tracker_sync_minutes > 0:
            self._schedules.append(
                _Schedule(
                    settings.tracker_sync_minutes * 60,
                    lambda: sync_trackers(database, settings, clock()),
                )
            )
        self.tick = min(s.every for s in self._schedules)

    def _sla_then_deliver(self) -> None:
        run_sla_sweeps(self.database, self.settings, self.clock())
        # Bounded like the regular drain: with a backlog the next sweep must not wait for it
        # (the breaches just found go out first, SLA e-mails being claimed before the rest).
        deliver(
            self.database,
            self.settings,
            self.transports,
            self.clock,
            self.delivery_budget,
            self._hold,
        )

    def start(self) -> None:
        self._thread.start()
        log.info("the jobs run in this process")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.transports.close()

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            for schedule in self._schedules:
                if self._stop.is_set():
                    return
                if schedule.due(time.monotonic()):
                    schedule.last = time.monotonic()
                    try:
                        schedule.run()
                    except Exception:
                        log.exception("embedded job failed; retrying on the next pass")
