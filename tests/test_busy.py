"""A database too busy to answer in time is a 503 to retry, never a 500."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from critdesk.auth import service as auth


def test_a_locked_database_answers_503_with_retry_after(client, login, monkeypatch) -> None:
    headers = login("alice@northwind.example")

    def locked(**_kwargs: object) -> None:
        raise OperationalError(
            "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
        )

    monkeypatch.setattr(auth, "user_for_token", locked)
    response = client.get("/api/v1/cases", headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "busy"


def test_other_database_errors_stay_server_errors(client, login, monkeypatch) -> None:
    headers = login("alice@northwind.example")

    def broken(**_kwargs: object) -> None:
        raise OperationalError("SELECT", None, sqlite3.OperationalError("no such table: x"))

    monkeypatch.setattr(auth, "user_for_token", broken)
    assert client.get("/api/v1/cases", headers=headers).status_code == 500


pytestmark = pytest.mark.filterwarnings("ignore")


def test_a_second_writer_on_the_same_event_loop_is_refused_at_once(tmp_path) -> None:
    """Inline handlers share the loop's thread: a writer that finds the line held by that same
    thread is behind a unit of work that awaited with its transaction open. Waiting would stop
    the loop for the whole busy timeout; it is refused at once (a 503 to retry) instead."""
    import asyncio
    import time

    from critdesk.db import WriterQueue

    line = WriterQueue(str(tmp_path / "writers.lock"))

    async def two_writers_on_one_loop() -> float:
        line.acquire()
        started = time.monotonic()
        try:
            with pytest.raises(OperationalError, match="database is locked"):
                line.acquire()
        finally:
            line.release()
        return time.monotonic() - started

    assert asyncio.run(two_writers_on_one_loop()) < 1
    # Off the loop (a worker thread), the same thread waits its turn as before.
    line.acquire()
    line.release()


def test_a_write_lock_held_outside_the_line_is_busy_and_leaves_the_line_free(
    tmp_path, monkeypatch
) -> None:
    """Another program holding SQLite's write lock (not in critdesk's line) makes BEGIN fail
    after the busy timeout as the engine's ``OperationalError`` ("busy, retry": a 503), and
    the writers' line is free again for the next writer."""
    from critdesk import db as database

    monkeypatch.setattr(database, "BUSY_TIMEOUT_SECONDS", 0.05)
    path = tmp_path / "locked.sqlite3"
    engine = database.make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="database is locked"), engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    finally:
        other.execute("ROLLBACK")
        other.close()
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT x FROM t").scalars().all() == [2]
    engine.dispose()
