"""``critdesk worker``: a job worker (procrastinate on PostgreSQL); ``critdesk worker once``:
one pass of every job, on any database (cron, debugging); ``critdesk worker embedded``: the
embedded job runner as a process of its own, on any database (``critdesk serve --workers N``
starts one beside its API workers)."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading

import click

from critdesk import execution
from critdesk.cli.context import now, settings
from critdesk.db import Database, make_engine
from critdesk.observability.structured_logs import configure_logging


@click.group(invoke_without_command=True)
@click.option("--concurrency", type=click.IntRange(1, 64), help="Jobs at once (threads).")
@click.option("--name", help="This worker's name in logs and procrastinate's tables.")
@click.pass_context
def worker(ctx: click.Context, concurrency: int | None, name: str | None) -> None:
    """Run a job worker: SLA sweeps, outbox delivery and the periodic sweeps (PostgreSQL).

    Run as many as you like, on as many machines; set CRITDESK_EMBEDDED_JOBS=false on the
    servers then. Stops cleanly on SIGINT/SIGTERM."""
    if ctx.invoked_subcommand is not None:
        return
    from critdesk.jobs import worker as jobs
    from critdesk.jobs.periodic import transports_from
    from critdesk.web import system_clock

    config = settings()
    if config.is_sqlite:
        raise click.ClickException(
            "critdesk worker needs PostgreSQL; on SQLite `critdesk serve` runs the jobs itself"
        )
    configure_logging(config.log_format, config.log_level)
    concurrency = concurrency or config.worker_concurrency
    app = jobs.make_app(config)
    with app.open():
        if not app.check_connection():
            raise click.ClickException(
                "procrastinate's tables are missing: run critdesk db upgrade"
            )
    database = Database(make_engine(config.effective_database_url, pool_size=concurrency + 2))
    runtime = jobs.Runtime(database, config, system_clock, transports_from(config))
    click.echo(f"critdesk worker {name or ''} ({concurrency} at once)".replace("  ", " "))
    # What start-up built lives as long as the process: out of the collector's sight.
    execution.settle_heap()
    try:
        jobs.run(runtime, app=app, concurrency=concurrency, name=name)
    finally:
        runtime.transports.close()
        database.dispose()


@worker.command("once")
def once() -> None:
    """One pass: every sweep, then deliver every due notification; prints what was done."""
    from critdesk.jobs.periodic import deliver, run_sweeps, transports_from

    config = settings()
    database = Database(make_engine(config.effective_database_url, pool_size=2))
    transports = transports_from(config)
    try:
        done: dict[str, object] = dict(run_sweeps(database, config, now()))
        done["delivered"] = deliver(database, config, transports, now).__dict__
    finally:
        transports.close()
        database.dispose()
    click.echo(json.dumps(done, indent=2))


@worker.command("embedded")
@click.option(
    "--nice",
    type=click.IntRange(0, 19),
    default=0,
    show_default=True,
    help="Lower this process's CPU priority by this much (the server's runner: 10).",
)
@click.option(
    "--parent-pid",
    type=int,
    hidden=True,
    help="Stop when this process is gone (the server's arbiter that started this runner).",
)
def embedded(nice: int, parent_pid: int | None) -> None:
    """The embedded job runner in the foreground, on any database: SLA sweeps, the outbox
    drain and the periodic sweeps on the schedule ``critdesk serve`` uses.

    ``critdesk serve --workers N`` runs one of these beside its API workers, so that the jobs
    never compete with requests for a worker's interpreter. Stops cleanly on SIGINT/SIGTERM."""
    from critdesk.jobs.periodic import EmbeddedRunner
    from critdesk.web import system_clock

    config = settings()
    configure_logging(config.log_format, config.log_level)
    if nice:
        os.nice(nice)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    database = Database(make_engine(config.effective_database_url, pool_size=config.db_pool_size))
    runner = EmbeddedRunner(database, config, system_clock, config.sweep_interval_seconds)
    runner.start()
    # As in a server process (critdesk.app): a full collection then walks only what the jobs
    # made, not every module and mapper, beside the API workers it shares the processors with.
    execution.settle_heap()
    log = logging.getLogger(__name__)
    log.info("job runner started (pid %s, nice %s)", os.getpid(), nice)
    try:
        while not stop.wait(1.0):
            if parent_pid is not None and os.getppid() != parent_pid:
                log.warning("the server (pid %s) is gone: stopping the job runner", parent_pid)
                break
    finally:
        runner.stop()
        database.dispose()
        log.info("job runner stopped (pid %s)", os.getpid())
