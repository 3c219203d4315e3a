"""procrastinate workers on PostgreSQL (``critdesk worker``): the same jobs as the embedded
runner, run by any number of worker processes on any number of machines.

The transactional guarantee does not come from procrastinate: every timer is a column and
every notification an outbox row, written with the change that causes it. procrastinate's
periodic tasks only *sweep* those timers and *drain* the outbox, with the same idempotent job
functions as the embedded runner (jobs/periodic.py); a tick lost to a crash is simply done by
the next one. Each periodic task holds a queueing lock, so at most one tick of each waits in
the queue however many workers defer it.

procrastinate keeps its tables in their own PostgreSQL schema, ``procrastinate``, created by
migration 0004 (``critdesk db upgrade``); its connections put that schema on their
``search_path``. Keeping them apart from ours means ``alembic check`` never sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from critdesk.config import Settings
from critdesk.db import Database
from critdesk.jobs import periodic
from critdesk.notification.jobs import Transports

log = logging.getLogger(__name__)
SCHEMA = "procrastinate"
TASKS = ("sla_sweep", "deliver", "sweeps", "retry_stalled")


@dataclass
class Runtime:
    """What the jobs run against; handed to every task through the worker's context."""

    database: Database
    settings: Settings
    clock: Callable[[], datetime]
    transports: Transports


def conninfo(database_url: str) -> str:
    """The libpq connection string of a ``postgresql+psycopg://`` URL, on procrastinate's
    schema."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("procrastinate workers need PostgreSQL (CRITDESK_DATABASE_URL)")
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return make_conninfo(plain, options=f"-c search_path={SCHEMA}")


def _cron(seconds: float) -> str:
    """Every ``seconds`` (rounded to a divisor-friendly whole second or minute)."""
    whole = max(1, round(seconds))
    if whole < 60:
        return f"* * * * * */{whole}"
    return f"*/{max(1, round(whole / 60))} * * * *"


def _runtime(context: procrastinate.JobContext) -> Runtime:
    runtime: Runtime = context.additional_context["runtime"]
    return runtime


def make_app(settings: Settings, *, periodic_tasks: bool = True) -> procrastinate.App:
    """The procrastinate app on the configured database, its tasks registered.

    ``periodic_tasks=False`` leaves out the schedule (tests defer ticks themselves)."""
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(settings.effective_database_url),
        min_size=1,
        max_size=settings.worker_concurrency + 3,
    )
    app = procrastinate.App(connector=connector)

    @app.task(name="critdesk.sla_sweep", pass_context=True, queueing_lock="critdesk.sla_sweep")
    def sla_sweep(context: procrastinate.JobContext, timestamp: int | None = None) -> Any:
        """Due SLA warnings and breaches, then their notifications straight away."""
        rt = _runtime(context)
        done: dict[str, Any] = dict(periodic.run_sla_sweeps(rt.database, rt.settings, rt.clock()))
        done["delivered"] = periodic.deliver(rt.database, rt.settings, rt.transports, rt.clock).sent
        return done

    @app.task(name="critdesk.deliver", pass_context=True)
    def deliver(context: procrastinate.JobContext, timestamp: int | None = None) -> int:
        """Drains the outbox (several of these may run at once, on several workers)."""
        rt = _runtime(context)
        return periodic.deliver(rt.database, rt.settings, rt.transports, rt.clock).sent

    @app.task(name="critdesk.sweeps", pass_context=True, queueing_lock="critdesk.sweeps")
    def sweeps(context: procrastinate.JobContext, timestamp: int | None = None) -> Any:
        rt = _runtime(context)
        return periodic.run_sweeps(rt.database, rt.settings, rt.clock())

    @app.task(
        name="critdesk.tracker_sync", pass_context=True, queueing_lock="critdesk.tracker_sync"
    )
    def tracker_sync(context: procrastinate.JobContext, timestamp: int | None = None) -> Any:
        """Bug states pulled from the configured trackers (Jira, GitHub)."""
        rt = _runtime(context)
        return periodic.sync_trackers(rt.database, rt.settings, rt.clock())

    @app.task(name="critdesk.retry_stalled", queueing_lock="critdesk.retry_stalled")
    async def retry_stalled(timestamp: int | None = None) -> int:
        """Jobs of a worker that died (no heartbeat) go back to the queue. Harmless for ours,
        which are idempotent; it keeps procrastinate's own tables tidy."""
        stalled = list(await app.job_manager.get_stalled_jobs())
        for job in stalled:
            await app.job_manager.retry_job(job)
        return len(stalled)

    if periodic_tasks:
        app.periodic(cron=_cron(settings.sla_sweep_seconds), periodic_id="sla")(sla_sweep)
        # One periodic drain waits in the queue at most; drains deferred otherwise are free.
        app.periodic(
            cron=_cron(settings.outbox_poll_seconds),
            periodic_id="deliver",
            queueing_lock="critdesk.deliver.tick",
        )(deliver)
        app.periodic(cron=_cron(settings.sweep_interval_seconds), periodic_id="sweeps")(sweeps)
        app.periodic(cron="*/5 * * * *", periodic_id="stalled")(retry_stalled)
        if settings.tracker_sync_minutes > 0:
            app.periodic(
                cron=_cron(settings.tracker_sync_minutes * 60), periodic_id="tracker_sync"
            )(tracker_sync)
    return app


def defer(app: procrastinate.App, task: str, **kwargs: Any) -> int | None:
    """Defers one run of a task by name (``sla_sweep``, ``deliver``, …); None when its
    queueing lock says one is already waiting."""
    try:
        job_id: int = app.configure_task(f"critdesk.{task}").defer(**kwargs)
        return job_id
    except procrastinate_errors.AlreadyEnqueued:
        return None


def run(
    runtime: Runtime,
    *,
    app: procrastinate.App | None = None,
    concurrency: int | None = None,
    name: str | None = None,
    wait: bool = True,
    install_signal_handlers: bool = True,
) -> None:
    """Runs a worker until stopped (SIGINT/SIGTERM: it finishes its jobs first); with
    ``wait=False`` only until the queue is empty."""
    app = app or make_app(runtime.settings)
    options: dict[str, Any] = {
        "concurrency": concurrency or runtime.settings.worker_concurrency,
        "name": name,
        "wait": wait,
        "additional_context": {"runtime": runtime},
        "delete_jobs": "successful",
        "listen_notify": wait,
    }
    if not wait:
        app.run_worker(install_signal_handlers=install_signal_handlers, **options)
        return
    asyncio.run(_supervise(app, options, install_signal_handlers))


async def _supervise(app: procrastinate.App, options: dict[str, Any], signals: bool) -> None:
    """procrastinate stops a worker, quietly, when one of its side tasks (the LISTEN
    connection, the periodic deferrer) loses the database, e.g. while PostgreSQL restarts
    (tests/faults). A desk's worker rides that out: it runs again, after a pause that grows
    while the database stays away, until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    pause = 1.0
    async with app.open_async():
        while not stop.is_set():
            started = loop.time()
            worker = asyncio.create_task(
                app.run_worker_async(install_signal_handlers=False, **options)
            )
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({worker, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set():
                worker.cancel()  # procrastinate then finishes the jobs it is running
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await worker
                return
            stopping.cancel()
            error = None if worker.cancelled() else worker.exception()
            log.warning("worker stopped (%r); starting it again in %.0f s", error, pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            pause = 1.0 if loop.time() - started > 60 else min(pause * 2, 30.0)
