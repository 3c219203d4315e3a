"""A scale-out deployment on one machine: API processes and job workers on one PostgreSQL.

Every process is started in its own session (process group), bound to 127.0.0.1, with its log
in one folder; ``kill`` sends a signal to the whole group (an API process that forks workers
dies whole), ``restart`` starts the same command again, ``stop_all`` always cleans up.

Used by ``bench/load`` (the mixed workload), ``bench/peer`` (critdesk's side of the peer
comparison) and ``tests/faults`` (SIGKILL and restarts in the middle of the workload).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BIN = Path(sys.executable).parent
# The suite's database and PostgreSQL's own are never dropped, whatever a variable says.
FORBIDDEN_DATABASES = frozenset({"test", "postgres", "template0", "template1"})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def critdesk_command() -> list[str]:
    """The ``critdesk`` console script of this interpreter's environment."""
    script = BIN / "critdesk"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from critdesk.cli.main import cli; cli()"]


class PgDatabase:
    """A database of its own on a PostgreSQL server: created afresh, dropped by ``drop``."""

    def __init__(self, admin_url: str, name: str) -> None:
        if name in FORBIDDEN_DATABASES:
            raise SystemExit(f"refusing to use the database {name!r}")
        self.admin_url = admin_url
        self.name = name
        self.url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def _admin(self, *statements: str) -> None:
        engine = create_engine(make_url(self.admin_url), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.execute(text(statement.format(db=f'"{self.name}"')))
        finally:
            engine.dispose()

    def create(self) -> PgDatabase:
        self._admin("DROP DATABASE IF EXISTS {db} WITH (FORCE)", "CREATE DATABASE {db}")
        return self

    def drop(self) -> None:
        self._admin("DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    def server_version(self) -> str | None:
        return server_version(self.admin_url)


def server_version(admin_url: str) -> str | None:
    engine = create_engine(make_url(admin_url))
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    except Exception:
        return None
    finally:
        engine.dispose()


class Process:
    """One long-running command in its own process group, its output appended to a log."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], folder: Path):
        self.name = name
        self.command = command
        self.env = dict(env)
        self.folder = folder
        self.log_path = folder / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> Process:
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Sends ``sig`` to the whole process group and, for SIGKILL, reaps it."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        if sig == signal.SIGKILL:
            self.popen.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.kill(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
        # Whatever the group left behind (forked workers of a killed master).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def restart(self) -> Process:
        self.stop()
        return self.start()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class ApiProcess(Process):
    """``critdesk serve`` on 127.0.0.1:port (one process unless ``workers`` says more)."""

    def __init__(
        self,
        name: str,
        port: int,
        env: Mapping[str, str],
        folder: Path,
        workers: int = 1,
        access_log: bool = False,
    ) -> None:
        command = [*critdesk_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
        if workers != 1:
            command += ["--workers", str(workers)]
        if not access_log and _serve_has("--no-access-log"):
            command.append("--no-access-log")
        if _serve_has("--no-migrate"):
            command.append("--no-migrate")
        super().__init__(name, command, env, folder)
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float = 120) -> None:
        """Until ``/readyz`` answers 200 (the app imported, the database reachable)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log_tail()}")


class WorkerProcess(Process):
    """``critdesk worker --name NAME`` (procrastinate on PostgreSQL)."""

    def __init__(self, name: str, env: Mapping[str, str], folder: Path) -> None:
        super().__init__(name, [*critdesk_command(), "worker", "--name", name], env, folder)


def latest_worker_id(url: str) -> int:
    """The id of the last worker procrastinate registered (each start adds a row)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT max(id) FROM procrastinate.procrastinate_workers")
            ).scalar()
        return int(found or 0)
    finally:
        engine.dispose()


def wait_workers(url: str, since: int, workers: list[WorkerProcess], timeout: float = 120) -> None:
    """Until these workers, started after worker id ``since``, have registered (are fetching
    jobs): as many new rows in procrastinate's worker table."""
    deadline = time.monotonic() + timeout
    engine = create_engine(url)
    try:
        while time.monotonic() < deadline:
            for worker in workers:
                if not worker.alive():
                    raise RuntimeError(f"{worker.name} exited:\n{worker.log_tail()}")
            try:
                with engine.connect() as conn:
                    found = conn.execute(
                        text(
                            "SELECT count(*) FROM procrastinate.procrastinate_workers"
                            " WHERE id > :since"
                        ),
                        {"since": since},
                    ).scalar()
                if (found or 0) >= len(workers):
                    return
            except Exception:  # the database may be restarting; ask again
                pass
            time.sleep(0.3)
    finally:
        engine.dispose()
    logs = "\n".join(w.log_tail() for w in workers)
    raise RuntimeError(f"workers not registered after {timeout}s:\n{logs}")


_HELP: dict[str, str] = {}


def _serve_has(option: str) -> bool:
    """Whether this version of ``critdesk serve`` takes ``option`` (it is being extended)."""
    if "serve" not in _HELP:
        done = subprocess.run(
            [*critdesk_command(), "serve", "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        _HELP["serve"] = done.stdout
    return option in _HELP["serve"]


class Deployment:
    """critdesk's environment for every process (one data folder shared by all, one database),
    the processes started in it, and the one-shot CLI commands run in it."""

    def __init__(self, database_url: str, folder: Path, **settings: object) -> None:
        self.folder = folder
        self.data_dir = folder / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CRITDESK_")} | {
            "CRITDESK_DATABASE_URL": database_url,
            "CRITDESK_DATA_DIR": str(self.data_dir),
            "CRITDESK_SECRET_KEY": "bench-only-secret-not-for-production",
            # Acceptable-use limits off: a load test is not abuse.
            "CRITDESK_RATE_LIMIT_CASES_PER_MINUTE": "0",
        }
        self.env |= {f"CRITDESK_{k.upper()}": str(v) for k, v in settings.items()}
        self.processes: list[Process] = []

    def cli(self, *args: str, timeout: float = 300, extra_env: Mapping[str, str] = {}) -> str:
        done = subprocess.run(
            [*critdesk_command(), *args],
            env=self.env | dict(extra_env),
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"critdesk {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def api(self, name: str, port: int | None = None, **kw: object) -> ApiProcess:
        process = ApiProcess(name, port or free_port(), self.env, self.folder, **kw)  # type: ignore[arg-type]
        process.env["CRITDESK_BASE_URL"] = process.base
        self.processes.append(process)
        return process

    def worker(self, name: str) -> WorkerProcess:
        process = WorkerProcess(name, self.env, self.folder)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.alive():
                process.kill(signal.SIGTERM)
        for process in self.processes:
            process.stop(timeout=15)

    def logs(self, chars: int = 2000) -> str:
        return "\n".join(f"--- {p.name}\n{p.log_tail(chars)}" for p in self.processes)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
