"""What every command needs: the settings and a unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from sqlalchemy.orm import Session

from critdesk.config import Settings
from critdesk.db import Database, make_engine
from critdesk.errors import DomainError


def settings() -> Settings:
    loaded = Settings()
    loaded.data_dir.mkdir(parents=True, exist_ok=True)
    return loaded


def now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One session, committed once; domain refusals become a clean CLI error."""
    database = Database(make_engine(settings().effective_database_url, pool_size=1))
    try:
        with database.session() as session:
            yield session
    except DomainError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from error
    finally:
        database.dispose()
