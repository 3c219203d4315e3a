"""``critdesk serve``: the web app and the API, in one process or in N under gunicorn.

``--workers 1`` (the default) runs uvicorn in this process, as it always has, with the
embedded job runner in a thread of it. ``--workers N`` runs gunicorn's arbiter with N uvicorn
worker processes and one job runner process (``critdesk worker embedded``, unless
``CRITDESK_EMBEDDED_JOBS=false``): a worker or runner that dies is replaced, SIGTERM lets every
worker finish its requests (``--graceful-timeout``) and the runner its sends, SIGHUP reloads
the workers one by one and restarts the runner.

Each worker listens on a socket of its own bound to the same address (``SO_REUSEPORT``): the
kernel spreads new connections evenly over the workers. On one shared socket the first worker
to wake took every connection waiting, so with keep-alive clients one worker could end up
serving all of them while the other idled. The arbiter keeps the address reserved (bound, not
listening) for its whole life, so another program cannot take it between worker restarts.

Every worker is a whole app: its own connection pool and its own similar-bug index, built
from the database and kept in step with it before every search. The jobs run in the runner
process, not in the workers, so they never compete with requests for a worker's interpreter
(the sweeps claim rows atomically, so any number of runners and procrastinate workers may run
at once). HTTP metrics go to a folder shared by the workers (prometheus_client's multiprocess
mode), so a scrape of any worker counts them all.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from critdesk.balance import ConnectionShares, CountedConnections, ShedExcess
from critdesk.cli.context import settings
from critdesk.config import Settings
from critdesk.migration import upgrade
from critdesk.observability.structured_logs import configure_logging

# gunicorn replaces a worker that stays silent this long. Starting one (importing the app) takes
# far longer than gunicorn's 30 s default allows on a loaded 2-core machine.
WORKER_TIMEOUT_SECONDS = 120
KEEPALIVE_SECONDS = 5
ARBITER_CHECK_SECONDS = 1.0
# A job runner that dies is started again after this pause (no busy loop if it cannot start).
RUNNER_RESTART_SECONDS = 1.0

log = logging.getLogger(__name__)


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

    runner = JobRunner(config.job_runner_nice) if config.embedded_jobs else None
    shares = ConnectionShares(workers)
    # The workers only serve requests: the jobs are the runner process's.
    os.environ["CRITDESK_EMBEDDED_JOBS"] = "false"
    with metrics_folder(), reserved_address(host, port) as placeholder:

        def child_exit(_server: Any, worker: Any) -> None:
            # A dead worker's live gauges leave the scrape; its counters stay in the sums.
            multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
            shares.leave(worker.pid)

        options: dict[str, Any] = {
            # gunicorn's own listener is a placeholder nobody connects to: each worker listens
            # on the real address itself (see the module's docstring).
            "bind": [f"unix:{placeholder}"],
            "workers": workers,
            "worker_class": _worker_class(host, port, shares),
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
        if runner is not None:
            options |= {
                "on_reload": lambda _arbiter: runner.restart(),
                "on_exit": lambda _arbiter: runner.stop(graceful_timeout),
            }
        _Gunicorn(options, runner).run()


def listener(host: str, port: int, backlog: int | None = None) -> socket.socket:
    """A TCP socket on (host, port) that others may bind too (``SO_REUSEPORT``); listening when
    ``backlog`` is given, else only bound (the arbiter's reservation of the address)."""
    family, kind, proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        if backlog is not None:
            sock.listen(backlog)
            sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


@contextmanager
def reserved_address(host: str, port: int) -> Iterator[str]:
    """Holds (host, port) for the server's life and yields a path for gunicorn's placeholder
    listener. Fails at once, before any worker starts, when the address is taken: by another
    program (the bind fails), or by another ``critdesk serve --workers N``, whose listeners
    would otherwise let this one share the port (``SO_REUSEPORT`` admits any process of the
    same user): a lock on the address, held as long as the server runs, tells them apart."""
    where = _bind(host, port)
    lock = _address_lock(host, port)
    try:
        reservation = listener(host, port)
    except OSError as error:
        if lock is not None:
            os.close(lock)
        raise click.ClickException(f"cannot listen on {where}: {error}") from error
    # Under /tmp whatever TMPDIR says: a socket's path must fit in 108 bytes.
    folder = Path(tempfile.mkdtemp(prefix="critdesk-", dir="/tmp"))
    try:
        yield str(folder / "arbiter.sock")
    finally:
        reservation.close()
        shutil.rmtree(folder, ignore_errors=True)
        if lock is not None:
            os.close(lock)


def _address_lock(host: str, port: int) -> int | None:
    """An exclusive lock on a file named after the address, or a clear refusal when another
    server holds it. None when the file cannot be opened (another user's: that user's server
    could not share the port anyway, the bind refuses it)."""
    path = Path("/tmp") / f"critdesk-{host.replace(':', '_')}-{port}.lock"
    try:
        lock = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        raise click.ClickException(
            f"another critdesk server listens on {_bind(host, port)}"
        ) from None
    return lock


class JobRunner:
    """``critdesk worker embedded`` beside the API workers, kept by the arbiter's own loop
    (``_Arbiter``): started with the workers, started again when it dies, asked to stop
    (SIGTERM, then SIGKILL after the graceful timeout) when the arbiter stops. It stops itself
    if the arbiter is killed outright.

    It runs niced (``CRITDESK_JOB_RUNNER_NICE``, 10): under a burst the requests get the
    processors first; what the runner does then (sending the notifications the burst caused)
    waits in the outbox a little longer. The SLA sweeps are cheap and still run on time.

    Only the arbiter's main thread starts it: a fork by another thread while gunicorn forks a
    worker would hand the worker a copy of the exec status pipe, and the start would never end.
    """

    def __init__(self, nice: int) -> None:
        self.nice = nice
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self._next_start = 0.0

    def keep(self) -> None:
        """Starts the runner if it is not running (at most once a ``RUNNER_RESTART_SECONDS``)."""
        if self._stopping or (self._process is not None and self._process.poll() is None):
            return
        if self._process is not None:
            # gunicorn's arbiter reaps every child that exits; poll() then reads 0.
            log.warning("the job runner (pid %s) exited: starting another", self._process.pid)
            self._process = None
        if time.monotonic() < self._next_start:
            return
        self._next_start = time.monotonic() + RUNNER_RESTART_SECONDS
        command = [sys.executable, "-m", "critdesk", "worker", "embedded", "--nice", str(self.nice)]
        env = {k: v for k, v in os.environ.items() if k != "CRITDESK_EMBEDDED_JOBS"}
        self._process = subprocess.Popen([*command, "--parent-pid", str(os.getpid())], env=env)

    def restart(self) -> None:
        """A reload: the runner stops gracefully and the arbiter's loop starts a new one."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()

    def stop(self, timeout: float) -> None:
        self._stopping = True
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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


def _worker_class(host: str, port: int, shares: ConnectionShares) -> type:
    with warnings.catch_warnings():
        # uvicorn points at the separate uvicorn-worker package; its worker here is the same.
        warnings.simplefilter("ignore", DeprecationWarning)
        from uvicorn.workers import UvicornWorker

    from uvicorn.server import Server

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
            # This worker's own listener on the real address (see the module's docstring).
            self.sockets = [listener(host, port, self.cfg.backlog)]
            watchdog = asyncio.get_running_loop().create_task(self._watch_arbiter())
            server = Server(config=self.config)
            # Connections spread by load, not by the kernel's hash alone (critdesk.balance).
            slot = shares.join(os.getpid())
            server.server_state.connections = CountedConnections(shares, slot)
            metrics = getattr(self.wsgi.state, "metrics", None)
            self.config.app = ShedExcess(
                self.wsgi,
                shares,
                slot,
                server.server_state.connections,
                on_shed=metrics.shed.inc if metrics is not None else None,
            )
            self._install_sigquit_handler()
            try:
                await server.serve(sockets=self.sockets)
            finally:
                watchdog.cancel()
                shares.leave(os.getpid())
            if not server.started:
                sys.exit(Arbiter.WORKER_BOOT_ERROR)

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

    def __init__(self, options: dict[str, Any], runner: JobRunner | None = None) -> None:
        self.options = options
        self.runner = runner
        super().__init__()

    def run(self) -> None:
        runner = self.runner

        class _Arbiter(Arbiter):  # type: ignore[misc]
            def manage_workers(self) -> None:
                # Called on every turn of the arbiter's loop (at least once a second).
                super().manage_workers()
                if runner is not None:
                    runner.keep()

        try:
            _Arbiter(self).run()
        except RuntimeError as error:  # gunicorn's own way out (e.g. a worker failing to boot)
            click.echo(f"\nError: {error}\n", err=True)
            sys.exit(1)

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from critdesk.app import create_app

        return create_app()
