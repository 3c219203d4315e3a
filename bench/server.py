"""One benchmark database and one ``critdesk serve --workers 2`` on it, started and cleaned up.

Everything the bench creates lives in one temporary folder (the SQLite file, the server log,
the working directory of every command, so that no developer's ``.env`` leaks in) and, for
PostgreSQL, in one database of its own that is dropped afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.measure import children, cmdline

BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get(
    "BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = os.environ.get("BENCH_PG_DATABASE", "critdesk_bench")
# Never the suite's database, whatever the environment says.
FORBIDDEN_DATABASES = frozenset({"test", "postgres", "template0", "template1"})


class BenchDatabase:
    """A fresh, migrated database with the demo data; removed by ``drop``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.folder = Path(tempfile.mkdtemp(prefix=f"critdesk-bench-{kind}-"))
        self.env = {
            **os.environ,
            "CRITDESK_DATA_DIR": str(self.folder / "data"),
            "CRITDESK_RATE_LIMIT_CASES_PER_MINUTE": "0",
            "CRITDESK_SECRET_KEY": "bench-only-secret",
        }
        self.env.pop("CRITDESK_DATABASE_URL", None)
        if kind == "postgres":
            if PG_DATABASE in FORBIDDEN_DATABASES:
                raise SystemExit(f"refusing to use the database {PG_DATABASE!r}")
            self._pg_admin("DROP DATABASE IF EXISTS {db} WITH (FORCE)", "CREATE DATABASE {db}")
            self.url = make_url(PG_ADMIN_URL).set(database=PG_DATABASE)
            self.env["CRITDESK_DATABASE_URL"] = self.url.render_as_string(hide_password=False)
        else:
            self.url = make_url(f"sqlite:///{self.folder / 'data' / 'critdesk.sqlite3'}")

    @property
    def url_text(self) -> str:
        return self.url.render_as_string(hide_password=False)

    def _pg_admin(self, *statements: str) -> None:
        engine = create_engine(make_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.execute(text(statement.format(db=f'"{PG_DATABASE}"')))
        finally:
            engine.dispose()

    def pg_version(self) -> str | None:
        engine = create_engine(make_url(PG_ADMIN_URL))
        try:
            with engine.connect() as conn:
                return str(conn.execute(text("SHOW server_version")).scalar())
        except Exception:
            return None
        finally:
            engine.dispose()

    def backend_pids(self) -> list[int]:
        """The PostgreSQL server processes serving this database (their CPU is the DB's)."""
        if self.kind != "postgres":
            return []
        engine = create_engine(make_url(PG_ADMIN_URL))
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :db"),
                    {"db": PG_DATABASE},
                )
                return [int(r[0]) for r in rows]
        finally:
            engine.dispose()

    def cli(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [str(BIN / "critdesk"), *args],
            env=self.env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"critdesk {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def prepare(self) -> dict[str, str]:
        """Migrations, demo data, and a token for the customer and one for the engineer."""
        self.cli("db", "upgrade")
        self.cli("demo")
        return {
            who: self.cli("token", "create", "--email", email, "--name", "bench").strip()
            for who, email in (
                ("alice", "alice@northwind.example"),
                ("eng1", "eng1@vendor.example"),
            )
        }

    def drop(self) -> None:
        if self.kind == "postgres":
            self._pg_admin("DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        shutil.rmtree(self.folder, ignore_errors=True)


class Server:
    """``critdesk serve --workers N`` in its own process group, on loopback."""

    def __init__(self, database: BenchDatabase, port: int, workers: int, flags: list[str]):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.command = [
            str(BIN / "critdesk"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            *flags,
        ]
        self.log_path = database.folder / "serve.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command,
            env=database.env,
            cwd=database.folder,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers = workers

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as answer:
                    if answer.status == 200 and len(self.worker_pids()) == self.workers:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(
            f"server not ready after {timeout}s: {self.log_path.read_text()[-2000:]}"
        )

    def worker_pids(self) -> list[int]:
        # gunicorn's workers: the arbiter's (the serve process's) forked children, but for the
        # job runner it starts beside them.
        runners = self.runner_pids()
        return [pid for pid in children(self.process.pid) if pid not in runners]

    def runner_pids(self) -> list[int]:
        """The job runner process ``serve --workers N`` starts beside its workers."""
        return [pid for pid in children(self.process.pid) if "worker embedded" in cmdline(pid)]

    def server_pids(self) -> list[int]:
        """Every process doing the server's work: the workers and the job runner."""
        return children(self.process.pid)

    def get_json(self, path: str, token: str) -> Any:
        request = urllib.request.Request(
            self.base + path, headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
