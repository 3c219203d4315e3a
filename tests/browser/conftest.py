"""A real server for the browser tests: uvicorn in a thread, on a free local port, serving the
test's own (SQLite) database with the real clock, since the browser's countdowns tick."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from sqlalchemy import select

from critdesk.app import create_app
from critdesk.auth.models import User
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.config import Settings
from critdesk.db import Database
from critdesk.demo.service import load_demo
from critdesk.web import system_clock

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _busy_desk(database: Database) -> None:
    """The demo an hour on: its S1 outage picked up (late), the other cases still waiting."""
    now = datetime.now(UTC)
    with database.session() as session:
        load_demo(db=session, now=now - timedelta(hours=1))
        engineer = session.scalar(select(User).where(User.email == "eng2@vendor.example"))
        assert engineer is not None
        waiting = session.scalars(
            cases.with_relations(select(Case).where(Case.state == "new", Case.severity == "S1"))
        ).unique()
        for case in waiting:
            cases.start_investigation(db=session, case=case, actor=engineer, now=now)


@pytest.fixture
def live_server(backend: str, settings: Settings, database: Database) -> Iterator[str]:
    if backend != "sqlite":
        pytest.skip("the browser test runs on SQLite only, to keep the suite fast")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    _busy_desk(database)
    app = create_app(settings, clock=system_clock, database=database)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
