"""``critdesk serve``: the web app and the API, in one process or in N under gunicorn.

``--workers 1`` (the default) runs uvicorn in this process, as it always has. ``--workers N``
runs gunicorn's arbiter with N uvicorn worker processes on one socket: a worker that dies is
replaced, SIGTERM lets every worker finish its requests (``--graceful-timeout``) and stop its
embedded job runner, SIGHUP reloads the workers one by one.

Every worker is a whole app: its own connection pool, its own embedded job runner (unless
``CRITDESK_EMBEDDED_JOBS=false``; the sweeps claim rows atomically, so several runners never
do one piece of work twice) and its own similar-bug index, built from the database and kept
in step with it before every search. HTTP metrics go to a folder shared by the workers
(prometheus_client's multiprocess mode), so a scrape of any worker counts them all.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from critdesk.cli.context import settings
from critdesk.config import Settings
from critdesk.migration import upgrade
from critdesk.observability.structured_logs import configure_logging

# gunicorn replaces a worker that stays silent this long. Starting one (importing the app) takes
# far longer than gunicorn's 30 s default allows on a loaded 2-core machine.
WORKER_TIMEOUT_SECONDS = 120
KEEPALIVE_SECONDS = 5
ARBITER_CHECK_SECONDS = 1.0


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes; more than 1 runs gunicorn with uvicorn workers.",
)
@click.option(
    "--migrate/--no-migrate",
    default=None,
    help="Run migrations first (default: yes on the embedded SQLite database).",
)
@click.option("--access-log/--no-access-log", default=True, help="One log line per request.")
@click.option(
    "--graceful-timeout",
    default=30,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds that requests in flight get to finish on SIGTERM.",
)
def serve(
    host: str,
    port: int,
    workers: int,
    migrate: bool | None,
    access_log: bool,
    graceful_timeout: int,
) -> None:
    """Serve the web app and the API."""
    config = settings()
    configure_logging(config.log_format, config.log_level, access_log=access_log)
    if migrate if migrate is not None else config.is_sqlite:
        upgrade(config.effective_database_url)
    click.echo(f"critdesk on http://{_bind(host, port)} ({workers} worker(s))")
    if workers == 1:
        _serve_one(config, host, port, graceful_timeout)
    else:
        _serve_many(config, host, port, workers, graceful_timeout, access_log)


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _serve_one(config: Settings, host: str, port: int, graceful_timeout: int) -> None:
    import uvicorn

    # uvicorn shuts down gracefully on SIGTERM and then raises the signal again with the
    # handler it found: this one makes that graceful stop a clean exit (0), as under gunicorn.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(0))
    uvicorn.run(
        "critdesk.app:create_app",
        factory=True,
        host=host,
        port=port,
        # Our middleware writes the access line (with the request id and route template).
        access_log=False,
        log_config=None,
        log_level=config.log_level.lower(),
        proxy_headers=True,
        forwarded_allow_ips=config.forwarded_allow_ips,
        server_header=False,
        timeout_keep_alive=KEEPALIVE_SECONDS,
        timeout_graceful_shutdown=graceful_timeout,
    )


def _serve_many(
    config: Settings, host: str, port: int, workers: int, graceful_timeout: int, access_log: bool
) -> None:
    from prometheus_client import multiprocess

    with metrics_folder():

        def child_exit(_server: Any, worker: Any) -> None:
            # A dead worker's live gauges leave the scrape; its counters stay in the sums.
            multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]

        options = {
            "bind": [_bind(host, port)],
            "workers": workers,
            "worker_class": _worker_class(),
            "timeout": WORKER_TIMEOUT_SECONDS,
            "graceful_timeout": graceful_timeout,
            "keepalive": KEEPALIVE_SECONDS,
            "forwarded_allow_ips": config.forwarded_allow_ips,
            "logger_class": _logger_class(config, access_log),
            "loglevel": config.log_level.lower(),
            "accesslog": None,
            "errorlog": "-",
            "proc_name": "critdesk",
            "child_exit": child_exit,
            # Several servers may run on one host (one per port): no shared control socket.
            "control_socket_disable": True,
        }
        _Gunicorn(options).run()


@contextmanager
def metrics_folder() -> Iterator[Path]:
    """The workers' shared metrics folder: ``PROMETHEUS_MULTIPROC_DIR`` when set (emptied of a
    previous run's files, as prometheus_client requires), else a new one removed on exit."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="critdesk-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    try:
        yield folder
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(folder, ignore_errors=True)


def _worker_class() -> type:
    with warnings.catch_warnings():
        # uvicorn points at the separate uvicorn-worker package; its worker here is the same.
        warnings.simplefilter("ignore", DeprecationWarning)
        from uvicorn.workers import UvicornWorker

    class Worker(UvicornWorker):
        CONFIG_KWARGS = {
            "loop": "auto",
            "http": "auto",
            "lifespan": "on",
            "access_log": False,
            "server_header": False,
            "proxy_headers": True,
        }

        async def _serve(self) -> None:
            watchdog = asyncio.get_running_loop().create_task(self._watch_arbiter())
            try:
                await super()._serve()
            finally:
                watchdog.cancel()

        async def _watch_arbiter(self) -> None:
            """An arbiter killed outright (SIGKILL, OOM) cannot stop its workers: each stops
            itself, gracefully, within a second, and frees the port for a new server."""
            while True:
                await asyncio.sleep(ARBITER_CHECK_SECONDS)
                if os.getppid() != self.ppid:
                    self.log.warning("the arbiter (pid %s) is gone: stopping", self.ppid)
                    os.kill(os.getpid(), signal.SIGTERM)
                    return

    return Worker


def _logger_class(config: Settings, access_log: bool) -> type:
    from gunicorn.glogging import Logger

    class GunicornLogger(Logger):  # type: ignore[misc]
        """gunicorn's own lines (workers booting, exiting) through our handler and format."""

        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            configure_logging(config.log_format, config.log_level, access_log=access_log)
            for handler in list(self.error_log.handlers):
                self.error_log.removeHandler(handler)
            self.error_log.propagate = True
            self.access_log.disabled = True

    return GunicornLogger


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn configured from code; each worker builds the app after it is forked, so no
    database connection or thread is ever shared across processes."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from critdesk.app import create_app

        return create_app()
