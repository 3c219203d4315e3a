"""Datetimes go into the database as UTC and always come back aware, in UTC, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text

from critdesk.db import UTCDateTime, _aware_utc, make_engine

metadata = MetaData()
stamps = Table(
    "stamps", metadata, Column("id", Integer, primary_key=True), Column("at", UTCDateTime())
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder: Path = tmp_path_factory.mktemp("datetimes")
    engine = make_engine(f"sqlite:///{folder / 'd.sqlite3'}", pool_size=1)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


aware = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
    ),
)


@given(at=aware)
def test_an_aware_datetime_comes_back_equal_aware_and_in_utc(engine, at: datetime) -> None:
    with engine.begin() as conn:
        row_id = conn.execute(insert(stamps).values(at=at)).inserted_primary_key[0]
        back = conn.execute(select(stamps.c.at).where(stamps.c.id == row_id)).scalar_one()
    assert back == at
    assert back.tzinfo is UTC
    assert back.utcoffset() == timedelta(0)


def test_stored_text_is_naive_utc_with_microseconds(engine) -> None:
    at = datetime(2026, 11, 27, 19, 0, 0, tzinfo=timezone(timedelta(hours=1)))
    with engine.begin() as conn:
        row_id = conn.execute(insert(stamps).values(at=at)).inserted_primary_key[0]
        raw = conn.execute(text("SELECT at FROM stamps WHERE id = :id"), {"id": row_id}).scalar()
    assert raw == "2026-11-27 18:00:00.000000"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-11-27 18:00:00", datetime(2026, 11, 27, 18, tzinfo=UTC)),
        ("2026-11-27 18:00:00.250000", datetime(2026, 11, 27, 18, 0, 0, 250000, tzinfo=UTC)),
        # Text another tool wrote with an offset of its own is read at that offset.
        ("2026-11-27 19:00:00+01:00", datetime(2026, 11, 27, 18, tzinfo=UTC)),
        ("2026-11-27T18:00:00Z", datetime(2026, 11, 27, 18, tzinfo=UTC)),
    ],
)
def test_text_written_by_others_is_read_as_utc(engine, written: str, expected: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO stamps (at) VALUES (:at)"), {"at": written})
        back = conn.execute(select(stamps.c.at).order_by(stamps.c.id.desc()).limit(1)).scalar_one()
    assert back == expected and back.tzinfo is UTC


def test_null_stays_null(engine) -> None:
    with engine.begin() as conn:
        row_id = conn.execute(insert(stamps).values(at=None)).inserted_primary_key[0]
        assert conn.execute(select(stamps.c.at).where(stamps.c.id == row_id)).scalar() is None


def test_a_naive_datetime_is_refused(engine) -> None:
    with pytest.raises(Exception, match="naive datetime"), engine.begin() as conn:
        conn.execute(insert(stamps).values(at=datetime(2026, 11, 27, 18)))


# PostgreSQL: timestamptz, read by psycopg in the session's time zone, which make_engine sets
# to UTC on every new connection.


@pytest.fixture(scope="module")
def pg_engine(postgres_url: str):  # type: ignore[no-untyped-def]
    # This test process's own database (tests/conftest.py), not the server's shared one.
    engine = make_engine(postgres_url, pool_size=1)
    table = Table(
        "stamps",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime()),
    )
    table.create(engine)
    yield engine, table
    table.drop(engine)
    engine.dispose()


@given(at=aware)
def test_postgresql_gives_back_aware_utc_datetimes(pg_engine, at: datetime) -> None:
    engine, table = pg_engine
    with engine.begin() as conn:
        row_id = conn.execute(insert(table).values(at=at)).inserted_primary_key[0]
        back = conn.execute(select(table.c.at).where(table.c.id == row_id)).scalar_one()
    assert back == at and back.tzinfo is UTC


def test_postgresql_sessions_run_in_utc_whatever_the_servers_default(pg_engine) -> None:
    engine, _table = pg_engine
    with engine.connect() as conn:
        assert conn.execute(text("SHOW TIME ZONE")).scalar() == "UTC"


def test_a_session_moved_to_another_time_zone_still_reads_utc(pg_engine) -> None:
    engine, table = pg_engine
    at = datetime(2026, 11, 27, 18, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL TIME ZONE 'Asia/Kolkata'"))
        row_id = conn.execute(insert(table).values(at=at)).inserted_primary_key[0]
        back = conn.execute(select(table.c.at).where(table.c.id == row_id)).scalar_one()
    assert back == at and back.tzinfo is UTC


@pytest.mark.parametrize(
    "given",
    [
        datetime(2026, 11, 27, 18, tzinfo=UTC),
        datetime(2026, 11, 27, 23, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 11, 27, 18, tzinfo=ZoneInfo("Etc/UTC")),
        datetime(2026, 11, 27, 18),  # naive: taken as UTC
    ],
)
def test_the_postgresql_reader_hands_on_utc_and_converts_the_rest(given: datetime) -> None:
    back = _aware_utc(given)
    assert back == datetime(2026, 11, 27, 18, tzinfo=UTC) and back.tzinfo is UTC
    if given.tzinfo is UTC:
        assert back is given
    assert _aware_utc(None) is None
