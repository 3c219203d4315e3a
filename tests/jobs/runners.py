"""The two runners as fixtures, so that one test runs the same jobs through both: the
embedded runner's pass (jobs/periodic.py) and a procrastinate worker (jobs/worker.py, on
PostgreSQL only) that runs the deferred ticks until its queue is empty."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import pytest
from sqlalchemy import create_engine, text

from critdesk.adapters.smtp import RecordingMailer
from critdesk.adapters.webhook import RecordingWebhookSender
from critdesk.jobs import periodic
from critdesk.jobs import worker as procrastinate_worker
from critdesk.notification.jobs import Transports
from tests.notification.sinks import SmtpSink, WebhookReceiver


class Runner(Protocol):
    name: str

    def run(self) -> None:
        """One complete pass: the SLA sweeps, the other sweeps, the outbox drained."""


class EmbeddedPass:
    name = "embedded"

    def __init__(self, runtime: procrastinate_worker.Runtime) -> None:
        self.runtime = runtime

    def run(self) -> None:
        rt = self.runtime
        periodic.run_sla_sweeps(rt.database, rt.settings, rt.clock())
        periodic.run_sweeps(rt.database, rt.settings, rt.clock())
        periodic.deliver(rt.database, rt.settings, rt.transports, rt.clock)


class ProcrastinatePass:
    name = "procrastinate"

    def __init__(self, runtime: procrastinate_worker.Runtime) -> None:
        self.runtime = runtime
        self.app = procrastinate_worker.make_app(runtime.settings, periodic_tasks=False)

    def run(self) -> None:
        with self.app.open():
            for task in ("sla_sweep", "sweeps", "deliver"):
                procrastinate_worker.defer(self.app, task)
        procrastinate_worker.run(
            self.runtime, app=self.app, concurrency=1, wait=False, install_signal_handlers=False
        )


PROCRASTINATE_TABLES = (
    "procrastinate_jobs",
    "procrastinate_periodic_defers",
    "procrastinate_events",
    "procrastinate_workers",
)


def clear_procrastinate(database_url: str) -> None:
    engine = create_engine(database_url)
    tables = ", ".join(f"procrastinate.{t}" for t in PROCRASTINATE_TABLES)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def mailer() -> Any:
    return RecordingMailer()


@pytest.fixture
def webhooks() -> Any:
    return RecordingWebhookSender()


@pytest.fixture
def runtime(database, settings, clock, mailer, webhooks) -> procrastinate_worker.Runtime:  # type: ignore[no-untyped-def]
    return procrastinate_worker.Runtime(database, settings, clock, Transports(mailer, webhooks))


@pytest.fixture(params=["embedded", "procrastinate"])
def runner(request: pytest.FixtureRequest, backend: str, runtime, database_url: str) -> Runner:  # type: ignore[no-untyped-def]
    if request.param == "embedded":
        return EmbeddedPass(runtime)
    if backend != "postgresql":
        pytest.skip("procrastinate workers run on PostgreSQL only")
    clear_procrastinate(database_url)
    return ProcrastinatePass(runtime)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()
