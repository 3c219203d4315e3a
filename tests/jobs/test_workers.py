"""Real ``critdesk worker`` processes on PostgreSQL: two of them on the same due timers and
outbox, and one killed with SIGKILL in the middle of a batch and started again.

Both count at the SMTP server (aiosmtpd) by Message-ID, the id a receiver dedupes by."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from critdesk.auth.models import User
from critdesk.case import service as cases
from critdesk.case.models import Case, CaseEvent
from critdesk.case.rules import Impact
from critdesk.jobs import worker as jobs
from critdesk.notification import outbox, rules
from critdesk.notification import service as notifications
from critdesk.notification.models import Notification
from tests.case.test_api import ALICE
from tests.jobs.runners import clear_procrastinate
from tests.notification.sinks import SmtpSink

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("workers")]
CLI = (sys.executable, "-c", "from critdesk.cli.main import cli; cli()")


@pytest.fixture
def postgres_only(backend: str, database_url: str) -> str:
    if backend != "postgresql":
        pytest.skip("critdesk worker runs on PostgreSQL only")
    clear_procrastinate(database_url)
    return database_url


class Workers:
    """Starts ``critdesk worker`` processes and always stops them."""

    def __init__(self, url: str, sink: SmtpSink, folder: Path, **settings: object) -> None:
        self.folder = folder
        self.env = os.environ | {
            "CRITDESK_DATABASE_URL": url,
            "CRITDESK_DATA_DIR": str(folder),
            "CRITDESK_SMTP_URL": sink.url,
            "CRITDESK_OUTBOX_POLL_SECONDS": "1",
            "CRITDESK_SLA_SWEEP_SECONDS": "1",
            "CRITDESK_SWEEP_INTERVAL_SECONDS": "60",
        }
        self.env |= {f"CRITDESK_{k.upper()}": str(v) for k, v in settings.items()}
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [*CLI, "worker", "--name", name],
            env=self.env,
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.folder.glob("*.log"))


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., Workers]]:
    started: list[Workers] = []

    def make(url: str, sink: SmtpSink, **settings: object) -> Workers:
        started.append(Workers(url, sink, tmp_path, **settings))
        return started[-1]

    yield make
    for group in started:
        group.stop_all()


# Upper bounds for a machine shared with other test suites (a worker process may need seconds
# just to import); on a quiet machine each wait ends in a second or two.
def wait_until(
    check: Callable[[], bool], timeout: float, what: str, logs: Callable[[], str]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{logs()}")


def outbox_states(database) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with database.session() as db:
        return dict(
            db.execute(
                select(Notification.state, func.count())
                .where(Notification.channel == "email")
                .group_by(Notification.state)
            ).all()
        )


def test_two_workers_deliver_each_notification_of_200_breaches_exactly_once(
    postgres_only, database, settings, demo, workers, tmp_path
) -> None:
    now = datetime.now(UTC)
    with database.session() as db:
        alice = db.scalars(select(User).where(User.email == ALICE)).one()
        environment = alice.organisation.environments[0].id
        ids = [
            cases.report_case(
                db=db,
                reporter=alice,
                new=cases.NewCase(
                    title=f"Outage {n}",
                    description="Down for everyone.",
                    environment_id=environment,
                    impact=Impact(app_unavailable=True),
                    breadth="all_users",
                    end_users_blocked=True,
                ),
                now=now - timedelta(hours=1),  # Enterprise S1: due 30 minutes ago
            )[0].id
            for n in range(200)
        ]
        # The confirmations of these reports are not what this test counts.
        db.flush()
        outbox.fan_out_all(db)
        db.execute(update(Notification).values(state="sent"))
    # A receiver taking 20 ms a message: one worker alone cannot drain the outbox before the
    # other starts claiming, so the two really race for the same rows.
    sink = SmtpSink(delay=0.02).start()
    try:
        group = workers(postgres_only, sink, worker_concurrency=2, outbox_batch_size=20)
        group.start("w1")
        group.start("w2")
        app = jobs.make_app(settings, periodic_tasks=False)
        with database.session() as db:
            wait_until(
                lambda: (
                    db.scalar(text("SELECT count(*) FROM procrastinate.procrastinate_workers")) == 2
                ),
                60,
                "both workers to register",
                group.logs,
            )
        with app.open():
            jobs.defer(app, "sla_sweep")

        def fanned_out() -> bool:
            with database.session() as db:
                rows = db.scalar(
                    select(func.count()).where(
                        Notification.kind == "sla_breach", Notification.channel == "email"
                    )
                )
            return int(rows or 0) >= 3 * len(ids)

        # The sweep's own worker drains the outbox right after it; drains deferred once the
        # breaches' e-mails are in the outbox run on both workers beside it.
        wait_until(fanned_out, 60, "the breaches' e-mails to reach the outbox", group.logs)
        with app.open():
            for _ in range(4):
                jobs.defer(app, "deliver")

        def done() -> bool:
            with database.session() as db:
                breached = db.scalar(
                    select(func.count()).where(
                        Case.id.in_(ids), Case.sla_breach_sent_at.isnot(None)
                    )
                )
            states = outbox_states(database)
            return breached == len(ids) and set(states) <= {"sent"}

        wait_until(done, 60, "every breach to be notified", group.logs)
        group.stop_all()
    finally:
        sink.stop()

    with database.session() as db:
        per_case = dict(
            db.execute(
                select(CaseEvent.case_id, func.count())
                .where(CaseEvent.kind == "sla_breach", CaseEvent.case_id.in_(ids))
                .group_by(CaseEvent.case_id)
            ).all()
        )
        assert per_case == {case_id: 1 for case_id in ids}
        sent = db.execute(
            select(Notification.key, Notification.case_id, Notification.claimed_by).where(
                Notification.channel == "email", Notification.kind == "sla_breach"
            )
        ).all()
    # Every e-mail once at the server, by Message-ID: none lost, none twice.
    expected = {
        rules.message_id(key, settings.mail_domain, f"PCH-{case:06d}") for key, case, _ in sent
    }
    received = sink.message_ids()
    assert set(received) == expected
    assert max(received.values()) == 1
    # 200 breaches (and the demo's own), each to Alice (reporter and admin), the lead and the
    # account manager.
    breach_mails = [m for m in sink.messages() if "SLA breached" in str(m["Subject"])]
    assert len(breach_mails) == len(sent) >= 3 * len(ids)
    # Both workers delivered (each claim names its process).
    assert len({claimed.split(":")[1] for *_, claimed in sent}) == 2


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_the_message_in_flight(
    postgres_only, database, demo, workers
) -> None:
    """SIGKILL lands while the server holds a message it has recorded but not yet answered
    (the sink answers 120 ms late): the worker never learnt it was delivered, so that row —
    the one in flight — is sent again after the lease, with the same Message-ID, for the
    receiver to drop. Every other claimed row was either marked sent before the kill or not
    sent at all, so nothing else can be repeated, and nothing is lost. (A worker sending on
    several lanes at once has one message in flight per lane; this one has one lane.)"""
    with database.session() as db:
        # Only our messages: the demo's mail is done and its cases' timers are spent.
        db.execute(update(Notification).values(state="sent"))
        spent = datetime.now(UTC)
        db.execute(update(Case).values(sla_warning_sent_at=spent, sla_breach_sent_at=spent))
        for n in range(16):
            notifications.queue_email(
                db=db,
                to=f"contact{n}@example.org",
                subject=f"Message {n}",
                text="Hello",
                key=f"kill-test-{n}",
                now=datetime.now(UTC),
            )
    sink = SmtpSink(delay=0.12).start()
    try:
        group = workers(
            postgres_only,
            sink,
            # One job at a time sending on one lane: one message in flight.
            worker_concurrency=1,
            outbox_send_threads=1,
            outbox_batch_size=6,
            outbox_lease_seconds=2,
        )
        first = group.start("doomed")
        wait_until(lambda: len(sink.messages()) >= 4, 60, "the first deliveries", group.logs)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=5)
        at_kill = len(sink.messages())
        with database.session() as db:
            in_flight = set(
                db.scalars(select(Notification.key).where(Notification.state == "sending"))
            )
        assert in_flight, "the kill should land mid-batch"

        group.start("restarted")
        wait_until(
            lambda: outbox_states(database) == {"sent": outbox_states(database).get("sent", 0)},
            60,
            "the restarted worker to finish",
            group.logs,
        )
        group.stop_all()
    finally:
        sink.stop()

    with database.session() as db:
        rows = {
            key: attempts
            for key, attempts in db.execute(
                select(Notification.key, Notification.attempts).where(
                    Notification.key.like("kill-test-%")
                )
            ).all()
        }
        assert db.scalar(select(func.count()).where(Notification.state == "sending")) == 0
    ids = {rules.message_id(key, "critdesk.localhost"): key for key in rows}
    received = sink.message_ids()
    assert set(received) == set(ids), f"every message delivered, nothing else: {received}"
    repeated = [ids[m] for m, n in received.items() if n > 1]
    assert len(repeated) <= 1, f"only the message in flight may repeat: {repeated}"
    for key in repeated:
        assert key in in_flight and rows[key] == 2  # claimed again after the lease
    assert at_kill < len(rows), "the kill should land before the batch is done"
