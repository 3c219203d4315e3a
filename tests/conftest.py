"""Fixtures: a fresh migrated database per test (SQLite, and PostgreSQL when configured),
a controllable clock, the app, and logged-in callers."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from critdesk.app import create_app
from critdesk.auth import service as auth
from critdesk.auth.models import User
from critdesk.config import Settings
from critdesk.db import Database, make_engine
from critdesk.demo.service import load_demo
from critdesk.migration import upgrade
from critdesk.models import metadata
from tests.snapshot import Snapshot, pg_sequences

warnings.filterwarnings("ignore", message=".*httpx2.*")
from fastapi.testclient import TestClient  # noqa: E402

PG_URL = os.environ.get("CRITDESK_TEST_DATABASE_URL")
# Wednesday 25 November 2026, 10:00 London: inside every package's opening hours.
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = ["sqlite"] + (["postgresql"] if PG_URL else [])
        metafunc.parametrize("backend", backends, scope="session")


@dataclass
class FakeClock:
    now: datetime = T0
    calls: list[datetime] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, at: datetime) -> datetime:
        self.now = at
        return at


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """This test process's own PostgreSQL database, migrated; the tests that need PostgreSQL
    whatever their backend ask for it and are skipped without one."""
    if not PG_URL:
        pytest.skip("CRITDESK_TEST_DATABASE_URL is not set")
    # A per-process name: concurrent runs on one server never drop each other's database.
    name = f"critdesk_test_{_worker()}_{os.getpid()}"
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        path = tmp_path / "critdesk.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    empty_postgres: Callable[[], str] = request.getfixturevalue("empty_postgres")
    return empty_postgres()


@pytest.fixture(scope="session")
def empty_postgres(postgres_url: str) -> Iterator[Callable[[], str]]:
    """Empties the process's PostgreSQL database and restarts its ids; returns its URL.

    A DELETE of every table in a session in replica mode, where neither the foreign keys nor
    the audit trail's append-only triggers fire: the tests' tables hold a few rows, and
    TRUNCATE's new files for every table and index cost a hundred times as much (a median
    122 ms against 1.1 ms for the 28 tables, measured empty)."""
    engine = create_engine(postgres_url, pool_size=1)
    with engine.connect() as conn:
        sequences = pg_sequences(conn)
    statements = [
        "SET LOCAL session_replication_role = replica",
        *(f'DELETE FROM "{t.name}"' for t in metadata.sorted_tables),
        *(f"SELECT setval('{sequence}', 1, false)" for sequence in sequences),
    ]
    script = ";\n".join(statements)

    def empty() -> str:
        with engine.begin() as conn:
            conn.exec_driver_sql(script)
        return postgres_url

    yield empty
    engine.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(make_engine(database_url, pool_size=5))
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        rate_limit_cases_per_minute=0,
        secret_key="test-secret",
        embedded_jobs=False,
        search_warmup=False,
        # An embedded runner's hold depends on how busy the host is (a test run keeps it
        # busy): off here, and tested on its own (tests/jobs/test_pressure.py and the "busy"
        # tests of tests/notification/test_service.py).
        outbox_routine_hold_seconds=0,
    )


@pytest.fixture
def app(settings: Settings, clock: FakeClock, database: Database):  # type: ignore[no-untyped-def]
    return create_app(settings, clock=clock, database=database)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def demo_snapshots() -> dict[tuple[str, datetime], Snapshot]:
    return {}


@pytest.fixture
def demo(
    database: Database, clock: FakeClock, demo_snapshots: dict[tuple[str, datetime], Snapshot]
) -> None:
    """The demo data, as ``load_demo`` writes it at the clock's time: loaded once per test
    process, kind of database and time, and copied in after that (tests/snapshot.py)."""
    key = (database.engine.dialect.name, clock.now)
    snapshot = demo_snapshots.get(key)
    if snapshot is not None and snapshot.restore(database.engine):
        return
    with database.session() as session:
        load_demo(db=session, now=clock.now)
    if snapshot is None:
        demo_snapshots[key] = Snapshot.take(database.engine)


@dataclass
class Caller:
    email: str
    headers: dict[str, str]


@pytest.fixture
def login(database: Database, clock: FakeClock, demo: None):  # type: ignore[no-untyped-def]
    """Bearer headers for a demo user, issued through the token service (no password hashing)."""
    cache: dict[str, Caller] = {}

    def _login(email: str) -> dict[str, str]:
        if email not in cache:
            with database.session() as session:
                user = session.query(User).filter_by(email=email).one()
                token = auth.issue_token(db=session, user=user, name="test", now=clock.now)
            cache[email] = Caller(email, {"Authorization": f"Bearer {token}"})
        return cache[email].headers

    return _login
