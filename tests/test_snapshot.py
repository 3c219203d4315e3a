"""The demo fixture's copy (tests/snapshot.py) is the demo itself: a restored demo holds the
rows a fresh load writes, and a database that already holds rows is left to ``load_demo``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from critdesk.auth.models import User
from critdesk.db import Database, make_engine
from critdesk.demo.service import load_demo
from critdesk.models import metadata
from tests.conftest import FakeClock
from tests.snapshot import Snapshot

# Each load hashes the demo password with a salt of its own.
SALTED = {("users", "password_hash")}


def _rows(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in primary-key order, read through the models' types."""
    found = {}
    with database.engine.connect() as connection:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in SALTED]
            order = list(table.primary_key.columns) or columns
            found[table.name] = [
                tuple(row) for row in connection.execute(select(*columns).order_by(*order))
            ]
    return found


def _sequence_probe(database: Database) -> int:
    """The id the next user gets: the ids go on from the snapshot's, not from 1."""
    with database.session() as session:
        user = User(email="next@vendor.example", name="Next", role="engineer", created_at=T)
        session.add(user)
        session.flush()
        return user.id


T = FakeClock().now


def _fresh_database(database: Database, request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """An empty database of the same kind, as the ``database_url`` fixture makes them: on
    SQLite a copy of the migrated template, on PostgreSQL the same one emptied."""
    if database.engine.dialect.name == "sqlite":
        path = tmp_path / "fresh.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return Database(make_engine(f"sqlite:///{path}"))
    return Database(make_engine(request.getfixturevalue("empty_postgres")()))


@pytest.fixture
def snapshot(database: Database) -> Snapshot:
    """The demo loaded into ``database`` through the services, and its snapshot."""
    with database.session() as session:
        load_demo(db=session, now=T)
    return Snapshot.take(database.engine)


def test_a_restored_demo_holds_what_a_fresh_load_writes(
    database: Database, snapshot: Snapshot, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    loaded = _rows(database)
    assert sum(map(len, loaded.values())) > 50  # the demo: users, cases, events, audit, outbox
    next_after_load = _sequence_probe(database)

    fresh = _fresh_database(database, request, tmp_path)
    assert snapshot.restore(fresh.engine)
    assert _rows(fresh) == loaded
    assert _sequence_probe(fresh) == next_after_load
    fresh.dispose()


def test_a_database_that_holds_rows_is_not_restored_into(
    database: Database, snapshot: Snapshot, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    fresh = _fresh_database(database, request, tmp_path)
    _sequence_probe(fresh)
    assert not snapshot.restore(fresh.engine)
    with fresh.session() as session:
        assert session.scalars(select(User.email)).all() == ["next@vendor.example"]
    fresh.dispose()
