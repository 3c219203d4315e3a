"""SQLite's write-ahead log is checkpointed beside the requests, not by the commit that fills it."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from critdesk.app import create_app
from critdesk.config import Settings
from critdesk.db import (
    FALLBACK_AUTOCHECKPOINT_PAGES,
    Checkpointer,
    Database,
    checkpointer,
    make_engine,
    writer_line,
)


@pytest.fixture
def sqlite_db(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = Database(make_engine(f"sqlite:///{tmp_path / 'c.sqlite3'}", pool_size=2))
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
    yield db
    db.dispose()


def _write(db: Database, rows: int) -> None:
    with db.engine.begin() as conn:
        for _ in range(rows):
            conn.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": "x" * 2000})


def _log_pages(path: str) -> int:
    """The frames in the log now (a passive checkpoint with nothing else going on reports them)."""
    with sqlite3.connect(path, isolation_level=None) as probe:
        _busy, pages, _copied = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    probe.close()
    return int(pages)


def test_commits_leave_the_log_to_the_checkpointer(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert pages == FALLBACK_AUTOCHECKPOINT_PAGES
    # Over 1,000 pages of commits: SQLite's default would have checkpointed on a commit.
    for _ in range(60):
        _write(sqlite_db, 40)
    worker = checkpointer(sqlite_db.engine)
    assert worker is not None
    with sqlite3.connect(worker.path, isolation_level=None) as conn:
        before = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert before[1] > 1000


def test_a_checkpoint_copies_the_log_and_lets_the_next_writer_rewind_it(
    sqlite_db: Database,
) -> None:
    worker = checkpointer(sqlite_db.engine)
    assert worker is not None and worker.line is writer_line(sqlite_db.engine)
    _write(sqlite_db, 300)
    connection = sqlite3.connect(worker.path, isolation_level=None)
    try:
        pages, copied = worker.checkpoint(connection)
    finally:
        connection.close()
    assert pages > 100 and copied == pages
    _write(sqlite_db, 1)
    # The log started again from its beginning: it holds the last commit only.
    assert _log_pages(worker.path) < 10
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 301


def test_the_restart_waits_in_the_writers_line(sqlite_db: Database) -> None:
    """The second step holds the line: no writer of this process commits during it."""
    worker = checkpointer(sqlite_db.engine)
    assert worker is not None and worker.line is not None
    _write(sqlite_db, 50)
    worker.line.acquire()  # a writer of this process is under way
    done = threading.Event()

    def run() -> None:
        connection = sqlite3.connect(worker.path, isolation_level=None)
        worker.checkpoint(connection)
        connection.close()
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert not done.wait(0.3)  # the passive copy is done; the restart waits for the line
    finally:
        worker.line.release()
    thread.join(5)
    assert done.is_set()
    _write(sqlite_db, 1)
    assert _log_pages(worker.path) < 10


def test_the_thread_checkpoints_until_stopped_and_one_process_at_a_time(
    sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    path = str(sqlite_db.engine.url.database)
    calls: list[float] = []

    class Counting(Checkpointer):
        def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int]:
            calls.append(time.monotonic())
            if len(calls) == 2:
                raise sqlite3.OperationalError("disk I/O error")
            return super().checkpoint(connection)

    # Another process holds the checkpointer's lock: this one stands by.
    other = os.open(f"{path}-checkpoint.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other, fcntl.LOCK_EX)
    worker = Counting(path, writer_line(sqlite_db.engine), interval=0.02)
    worker.start()
    try:
        time.sleep(0.3)
        assert calls == []
        os.close(other)  # that process ended: this one takes over
        deadline = time.monotonic() + 5
        while len(calls) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(calls) >= 4  # the failure was logged and the next turn came anyway
    finally:
        worker.stop()
    stopped = len(calls)
    time.sleep(0.1)
    assert len(calls) == stopped
    assert "checkpoint of" in caplog.text and "disk I/O error" in caplog.text


def test_the_turns_keep_pace_with_the_log() -> None:
    worker = Checkpointer("unused.sqlite3", interval=1.0, min_interval=0.1, log_pages=3_000)
    # 14,000 pages a second (700 reports): a turn every 3,000 pages, 0.21 s.
    assert worker.next_wait(7_000, 0.5) == pytest.approx(3_000 / 14_000)
    assert worker.next_wait(100, 0.5) == 1.0  # a quiet log: the longest wait
    assert worker.next_wait(1_000_000, 0.5) == 0.1  # a flood: the shortest
    assert worker.next_wait(0, 0.5) == worker.next_wait(-1, 0.5) == 1.0  # empty, or not a WAL
    assert worker.next_wait(5_000, 0.0) == 1.0


def test_a_busy_log_is_checkpointed_before_the_longest_wait(sqlite_db: Database) -> None:
    path = str(sqlite_db.engine.url.database)
    calls: list[int] = []

    class Counting(Checkpointer):
        def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int]:
            pages, copied = super().checkpoint(connection)
            calls.append(pages)
            return pages, copied

    # The longest wait is far beyond the test: the log's pace alone brings the turns.
    worker = Counting(
        path, writer_line(sqlite_db.engine), interval=30, min_interval=0.02, log_pages=50
    )
    worker.start()
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            _write(sqlite_db, 20)
    finally:
        worker.stop()
    assert len(calls) >= 4
    assert max(calls) < FALLBACK_AUTOCHECKPOINT_PAGES


def test_postgresql_and_memory_engines_have_no_checkpointer(tmp_path: Path) -> None:
    memory = create_engine("sqlite://")
    assert checkpointer(memory) is None
    memory.dispose()
    postgres = make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/unused", pool_size=1)
    assert checkpointer(postgres) is None and writer_line(postgres) is None
    postgres.dispose()


def test_the_server_checkpoints_while_it_runs(tmp_path: Path, sqlite_template: Path) -> None:
    import shutil

    path = tmp_path / "critdesk.sqlite3"
    shutil.copy(sqlite_template, path)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{path}",
        secret_key="test-secret",
        embedded_jobs=False,
        search_warmup=False,
    )
    app = create_app(settings)

    def threads() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name == "critdesk-sqlite-checkpoint"]

    assert threads() == []
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert threads() == ["critdesk-sqlite-checkpoint"]
    assert threads() == []


def test_a_database_folder_that_is_not_there_is_a_warning_each_turn_not_a_dead_thread(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "later"
    worker = Checkpointer(str(folder / "c.sqlite3"), interval=0.02)
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while caplog.text.count("checkpoint of") < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert caplog.text.count("checkpoint of") >= 2
        # The folder appears (a volume mounted late): the next turns checkpoint it.
        folder.mkdir()
        db = Database(make_engine(f"sqlite:///{folder / 'c.sqlite3'}", pool_size=1))
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        deadline = time.monotonic() + 5
        while not (folder / "c.sqlite3-checkpoint.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (folder / "c.sqlite3-checkpoint.lock").exists()
        db.dispose()
    finally:
        worker.stop()
    assert worker._thread is None
