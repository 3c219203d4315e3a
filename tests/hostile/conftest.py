"""A per-worker template desk (demo data plus one object of every kind, tokens for every role),
copied afresh for each test: hostile tests may break what they like."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from critdesk.app import create_app
from critdesk.config import Settings
from critdesk.db import Database, make_engine
from critdesk.demo.service import DEMO_PASSWORD, load_demo
from critdesk.migration import upgrade
from tests.conftest import FakeClock
from tests.hostile.world import OTHER_CUSTOMERS, ROLES, World, build_world


def desk_settings(root: Path) -> Settings:
    return Settings(
        data_dir=root / "data",
        database_url=f"sqlite:///{root / 'desk.sqlite3'}",
        rate_limit_cases_per_minute=0,
        secret_key="test-secret",
        embedded_jobs=False,
        search_warmup=False,
    )


@dataclass(frozen=True)
class Template:
    root: Path
    tokens: dict[str, str]  # e-mail -> bearer token, issued by POST /api/v1/auth/token
    world: World


@pytest.fixture(scope="session")
def hostile_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("hostile-template")
    settings = desk_settings(root)
    upgrade(settings.effective_database_url)
    clock = FakeClock()
    # The app owns this database and disposes of it on shutdown, so the file is complete on
    # disk before it is copied.
    app = create_app(settings, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        with app.state.db.session() as session:
            load_demo(db=session, now=clock.now)
        tokens = {}
        for email in [*ROLES.values(), *OTHER_CUSTOMERS.values()]:
            response = client.post(
                "/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD}
            )
            assert response.status_code == 201, response.text
            tokens[email] = response.json()["token"]
        world = build_world(client, lambda email: {"Authorization": f"Bearer {tokens[email]}"})
    return Template(root, tokens, world)


@dataclass
class Desk:
    app: Any
    database: Database
    clock: FakeClock
    tokens: dict[str, str]
    world: World

    def headers(self, email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[email]}"}


@pytest.fixture
def desk(hostile_template: Template, tmp_path: Path) -> Iterator[Desk]:
    """A fresh copy of the template desk (SQLite), with its own app and clock."""
    shutil.copy(hostile_template.root / "desk.sqlite3", tmp_path / "desk.sqlite3")
    shutil.copytree(hostile_template.root / "data", tmp_path / "data")
    settings = desk_settings(tmp_path)
    database = Database(make_engine(settings.effective_database_url, pool_size=5))
    clock = FakeClock()
    app = create_app(settings, clock=clock, database=database)
    yield Desk(app, database, clock, hostile_template.tokens, hostile_template.world)
    database.dispose()
