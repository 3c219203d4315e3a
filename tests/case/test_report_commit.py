"""A report is committed before its answer is rendered, and a failing search does not fail it."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import pytest
from sqlalchemy import event, select

from critdesk.case.models import Case
from critdesk.db import commit_then_read
from tests.case.test_api import ALICE, ENG1, report


def test_a_failing_suggestion_search_still_reports_the_case(client, login, app, caplog) -> None:
    def broken(**_kwargs: Any) -> list[dict[str, Any]]:
        raise RuntimeError("search index unavailable")

    app.state.similar.suggestions = broken
    with caplog.at_level(logging.ERROR, logger="critdesk.case.api"):
        created = report(client, login(ALICE))
    assert created["suggestions"] == []
    assert created["timeline"][0]["kind"] == "reported"
    assert "known-issue suggestions failed" in caplog.text
    shown = client.get(f"/api/v1/cases/{created['ref']}", headers=login(ENG1))
    assert shown.status_code == 200
    assert shown.json()["title"] == created["title"]


def test_the_write_lock_is_free_while_suggestions_are_searched(
    client, login, app, backend, settings
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    path = app.state.db.engine.url.database
    search = app.state.similar.suggestions
    seen: dict[str, Any] = {}

    def probing(**kwargs: Any) -> list[dict[str, Any]]:
        # Another writer could start now: the case is committed and the request holds no lock.
        # (Within a second: the server's checkpointer takes the lock for a few ms at times;
        # a request holding it would hold it for as long as this search runs.)
        other = sqlite3.connect(path, timeout=1, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            seen["free"] = True
            seen["visible"] = other.execute(
                "SELECT count(*) FROM cases WHERE title = ?", (kwargs["text"].split("\n")[0],)
            ).fetchone()[0]
        finally:
            other.close()
        return search(**kwargs)  # type: ignore[no-any-return]

    app.state.similar.suggestions = probing
    report(client, login(ALICE))
    assert seen == {"free": True, "visible": 1}


def test_after_the_commit_the_session_begins_nothing_until_it_reads_and_then_a_read(
    database, backend
) -> None:
    begun: list[bool] = []

    def listener(conn: Any) -> None:
        begun.append(conn.get_execution_options().get("critdesk_read_only", False))

    event.listen(database.engine, "begin", listener)
    try:
        with database.session() as db:
            db.execute(select(Case.id).limit(1)).all()  # the unit of work: a write transaction
            commit_then_read(db)
            assert not db.in_transaction() and begun == [False]
            db.execute(select(Case.id).limit(1)).all()
            # On SQLite a deferred BEGIN, outside the writers' line; PostgreSQL locks rows.
            assert begun == [False, backend == "sqlite"]
    finally:
        event.remove(database.engine, "begin", listener)
