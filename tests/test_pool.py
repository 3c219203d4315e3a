"""PostgreSQL's pooled connections: pinged before reuse only after they sat idle
(``db.PING_IDLE_SECONDS``); a dead one found that way is replaced without an error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from critdesk import db


@pytest.fixture
def pings() -> list[Any]:
    """The connections the engine pinged, in order."""
    return []


@pytest.fixture
def engine(
    postgres_url: str, pings: list[Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    made = db.make_engine(postgres_url, pool_size=1)
    real = made.dialect.do_ping
    monkeypatch.setattr(
        made.dialect, "do_ping", lambda connection: pings.append(connection) or real(connection)
    )
    yield made
    made.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_in_steady_use_is_not_pinged(engine: Engine, pings: list[Any]) -> None:
    backends = {_backend(engine) for _ in range(20)}
    assert len(backends) == 1  # one pooled connection, reused
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced_without_an_error(
    engine: Engine, postgres_url: str, pings: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(engine)
    assert _backend(engine) == first and pings == []
    monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)  # every checkout now follows idleness
    assert _backend(engine) == first and len(pings) == 1
    # The server ends that connection while it sits in the pool (a restart, an idle timeout).
    admin = db.make_engine(postgres_url, pool_size=1)
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    admin.dispose()
    assert _backend(engine) != first  # no error: the ping found it dead, the pool replaced it
    assert len(pings) >= 2


def test_a_connection_lost_in_steady_use_fails_one_request_as_busy_then_the_desk_answers(
    backend: str,
    client: Any,
    login: Any,
    database: Any,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL's connections")
    monkeypatch.setattr(db, "PING_IDLE_SECONDS", 3600.0)  # in steady use, however slow the host
    alice = login("alice@northwind.example")
    assert client.get("/api/v1/cases", headers=alice).status_code == 200
    with database.engine.connect() as connection:
        pids = {int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())}
    admin = db.make_engine(database_url, pool_size=1)
    with admin.connect() as connection:
        for pid in pids:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    answer = client.get("/api/v1/cases", headers=alice)
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["error"]["code"] == "busy"
    assert client.get("/api/v1/cases", headers=alice).status_code == 200
