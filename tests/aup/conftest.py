from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from critdesk.app import create_app
from critdesk.db import Database, make_engine


@pytest.fixture
def instance(
    settings: Any, clock: Any, database_url: str, demo: None
) -> Iterator[Callable[..., TestClient]]:
    """A separate app process's worth: its own settings, engine and connection pool, on the
    suite's database."""
    opened: list[tuple[TestClient, Database]] = []

    def make(**overrides: Any) -> TestClient:
        database = Database(make_engine(database_url, pool_size=2))
        app = create_app(settings.model_copy(update=overrides), clock=clock, database=database)
        client = TestClient(app, raise_server_exceptions=False)
        opened.append((client.__enter__(), database))
        return client

    yield make
    for client, database in opened:
        client.__exit__(None, None, None)
        database.dispose()
