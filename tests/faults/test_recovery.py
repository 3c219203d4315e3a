"""Issue 9's fault scenario: two API processes and two job workers on a private PostgreSQL,
a workload of customers and engineers running through them (``bench/load/workload.py``:
reports, answers with small uploads, the queue and the engineers' actions; every client
retries on connection errors and 5xx, and a write counts only once a 2xx came back); then, in
the middle of it, SIGKILL to one API process and to one worker (both started again at once)
and one ``pg_ctl restart -m fast``.

Afterwards:
- every acknowledged case, info request, answer and attachment is there (the attachment's
  stored bytes hashing to what the client sent), and no retried report made a second case;
- every e-mail row of the outbox — one per (event, recipient, channel) — reached the SMTP
  server, none unknown arrived, and a Message-ID arrived twice only for a row that was in
  flight when its sender died or lost the database (sent again after its lease, with the
  same Message-ID for the receiver to drop), at most one per sending lane cut off;
- every SLA timer fired, exactly once: the package's targets are cut to seconds so that the
  warnings and breaches of cases reported at the start fall due after the faults;
- every process is up at the end (none died of the database restart).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.load import outbox, workload
from bench.load.population import populate
from bench.load.topology import (
    ApiProcess,
    Deployment,
    PgDatabase,
    WorkerProcess,
    latest_worker_id,
    wait_workers,
)
from bench.load.verify import verify
from sqlalchemy import func, select

from critdesk.case.models import Case, CaseEvent
from critdesk.db import Database, make_engine
from critdesk.demo.service import load_demo
from critdesk.migration import upgrade
from critdesk.notification.models import Notification
from critdesk.package import service as packages
from tests.faults.cluster import PrivateCluster
from tests.notification.sinks import SmtpSink

pytestmark = [pytest.mark.faults, pytest.mark.xdist_group("faults")]

# Enterprise (24x7) targets cut to seconds: S1 warns at 24 s and breaches at 32 s, S2 at
# 42 s and 56 s after the report, all after the faults (at ~4, ~10 and ~18 s).
S1_SECONDS, S2_SECONDS = 32, 56
TIMER_CASES = {"S1": 3, "S2": 3}
WORKLOAD_SECONDS = 35.0
SEND_THREADS = 4
SETTINGS = {
    "embedded_jobs": "false",
    "outbox_poll_seconds": 1,
    "sla_sweep_seconds": 2,
    "sweep_interval_seconds": 30,
    # A row whose sender died is claimed again after this; longer than any one send here.
    "outbox_lease_seconds": 8,
    "outbox_send_threads": SEND_THREADS,
    "worker_concurrency": 2,
}


def wait_until(check: Any, timeout: float, what: str, logs: Any) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs()}")


def prepare(url: str) -> None:
    """Schema, demo data, and second-level SLA targets on the Enterprise package."""
    upgrade(url)
    database = Database(make_engine(url, pool_size=2))
    try:
        with database.session() as db:
            load_demo(db=db, now=datetime.now(UTC))
            package = packages.get_package(db=db, code_or_id="enterprise")
            targets = dict(package.sla_targets) | {"S1": S1_SECONDS, "S2": S2_SECONDS}
            packages.update_package(
                db=db, actor=None, package=package, now=datetime.now(UTC), sla_targets=targets
            )
    finally:
        database.dispose()


def report_timer_cases(base: str, person: Any) -> dict[str, str]:
    """Cases nobody will touch, whose clocks run into the breach: ref -> severity."""
    shapes = {
        "S1": ({"app_unavailable": True}, "all_users"),
        "S2": ({"app_unavailable": False}, "end_users"),
    }
    refs = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for severity, count in TIMER_CASES.items():
            impact, breadth = shapes[severity]
            for n in range(count):
                answer = client.post(
                    "/api/v1/cases",
                    headers={
                        "Authorization": f"Bearer {person.token}",
                        "Idempotency-Key": f"timer-{uuid.uuid4().hex}",
                    },
                    json={
                        "title": f"Timer case {severity} {n}",
                        "description": "Left alone: its SLA warning and breach must fire.",
                        "environment_id": person.environment_id,
                        "impact": impact,
                        "breadth": breadth,
                        "end_users_blocked": True,
                    },
                )
                assert answer.status_code == 201, answer.text
                assert answer.json()["severity"] == severity
                refs[answer.json()["ref"]] = severity
    return refs


class Faults:
    """Kills and restarts on a schedule, from the moment the workload has written something."""

    def __init__(
        self,
        api: ApiProcess,
        worker: WorkerProcess,
        cluster: PrivateCluster,
        recorder: workload.Recorder,
        url: str,
    ) -> None:
        self.api, self.worker, self.cluster, self.recorder = api, worker, cluster, recorder
        self.url = url
        self.worker_since = 0
        self.log: list[tuple[float, str]] = []

    def note(self, what: str) -> None:
        self.log.append((round(time.monotonic() - self.t0, 1), what))

    def run(self) -> None:
        self.t0 = time.monotonic()
        wait_until(
            lambda: len(self.recorder.ledger.cases) >= 3, 30, "the first reports", lambda: ""
        )
        self.note("workload running")
        time.sleep(3)
        self.api.kill()
        self.note(f"SIGKILL {self.api.name}")
        self.api.start()
        time.sleep(6)
        self.worker.kill()
        self.note(f"SIGKILL {self.worker.name}")
        self.worker_since = latest_worker_id(self.url)
        self.worker.start()
        time.sleep(8)
        self.note("pg_ctl restart -m fast")
        self.cluster.restart()
        self.note("PostgreSQL back")


def sla_events(url: str) -> dict[tuple[int, str], int]:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(CaseEvent.case_id, CaseEvent.kind, func.count())
                .where(CaseEvent.kind.in_(("sla_warning", "sla_breach")))
                .group_by(CaseEvent.case_id, CaseEvent.kind)
            ).all()
    finally:
        engine.dispose()
    return {(case_id, kind): n for case_id, kind, n in rows}


def breached(url: str, refs: dict[str, str]) -> bool:
    engine = make_engine(url, pool_size=1)
    ids = [workload.ref_number(ref) for ref in refs]
    try:
        with engine.connect() as conn:
            return conn.scalar(
                select(func.count()).where(Case.id.in_(ids), Case.sla_breach_sent_at.isnot(None))
            ) == len(ids)
    finally:
        engine.dispose()


def duplicate_outbox_rows(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return len(
                conn.execute(
                    select(Notification.event_id, Notification.recipient, Notification.channel)
                    .where(Notification.event_id.isnot(None))
                    .group_by(Notification.event_id, Notification.recipient, Notification.channel)
                    .having(func.count() > 1)
                ).all()
            )
    finally:
        engine.dispose()


def test_kills_and_a_database_restart_lose_nothing_repeat_nothing_and_every_timer_fires(
    private_cluster: PrivateCluster, tmp_path: Path
) -> None:
    database = PgDatabase(private_cluster.admin_url, "critdesk_faults").create()
    prepare(database.url)
    population = populate(database.url, customers=7, engineers=2, tag="faults")
    sink = SmtpSink().start()
    deployment = Deployment(database.url, tmp_path, smtp_url=sink.url, **SETTINGS)
    try:
        apis = [deployment.api("api1"), deployment.api("api2")]
        workers = [deployment.worker("worker1"), deployment.worker("worker2")]
        since = latest_worker_id(database.url)
        for process in [*apis, *workers]:
            process.start()
        for api in apis:
            api.wait_ready()
        wait_workers(database.url, since, workers)

        timers = report_timer_cases(apis[1].base, population.customers[-1])
        plan = workload.Plan(
            bases=[api.base for api in apis],
            customers=population.customers[:-1],
            engineers=population.engineers,
            clients=8,
            seconds=WORKLOAD_SECONDS,
            max_requests=20_000,
            # A client retries for longer than PostgreSQL may take to come back: its restart
            # took 0.3-0.4 s in most runs but 60 s in two full-suite runs of 27 Nov (the other
            # tests busy beside it), and a write given up on is never acknowledged anyway.
            policy=workload.Policy(retry_seconds=150, timeout_seconds=30),
        )
        recorder = workload.Recorder()
        running = threading.Thread(target=lambda: asyncio.run(workload.run(plan, recorder)))
        running.start()
        faults = Faults(apis[0], workers[0], private_cluster, recorder, database.url)
        try:
            faults.run()
        finally:
            running.join(timeout=WORKLOAD_SECONDS + 120)
        assert not running.is_alive(), "the workload did not finish"
        apis[0].wait_ready()
        wait_workers(database.url, faults.worker_since, [workers[0]])

        wait_until(
            lambda: breached(database.url, timers), S2_SECONDS + 60, "every breach",
            deployment.logs,
        )  # fmt: skip
        states, _ = outbox.wait_drained(database.url, timeout=90)
        assert set(states) == {"sent"}, f"outbox not drained: {states}\n{deployment.logs()}"
        time.sleep(1)
        alive = {p.name: p.alive() for p in deployment.processes}
        found = verify(database.url, recorder.ledger, apis[1].base, population.engineers[0].token)
        delivery = outbox.delivery_check(database.url, sink.message_ids())
        events = sla_events(database.url)
        duplicates = duplicate_outbox_rows(database.url)
    finally:
        deployment.stop_all()
        sink.stop()
        database.drop()

    context = (
        f"faults {faults.log}\nledger {recorder.ledger.counts()}\n{deployment.logs(1500)}"
        f"\n--- PostgreSQL\n{private_cluster.log_tail()}"
    )
    # The faults happened mid-workload and the clients had to ride them out.
    assert private_cluster.restarts == 1
    assert [p.starts for p in (apis[0], workers[0])] == [2, 2]
    assert recorder.retries > 0, context
    assert not recorder.gave_up, f"writes given up: {recorder.gave_up}\n{context}"
    # Refused only on a retry whose lost first attempt had gone through (then found present).
    assert all(r["status"] == 409 and r["attempts"] > 1 for r in recorder.refused), context

    # Every acknowledged write is there; many of them, of every kind.
    assert found["ok"], f"{found}\n{context}"
    counts = recorder.ledger.counts()
    assert counts["cases"] >= 10 and counts["answers"] >= 3 and counts["attachments"] >= 1, counts
    assert all(entry["present"] for entry in recorder.found_after_retry), context

    # Every SLA timer fired exactly once: each timer case warned and breached; no case twice.
    for ref in timers:
        number = workload.ref_number(ref)
        assert events.get((number, "sla_warning")) == 1, (ref, events)
        assert events.get((number, "sla_breach")) == 1, (ref, events)
    assert max(events.values()) == 1, events

    # Notifications: one outbox row per (event, recipient, channel), each at the SMTP server;
    # a repeat only for a row in flight when its sender died or lost the database (claimed
    # again after the lease), at most one per sending lane cut off.
    assert duplicates == 0
    assert delivery["email_rows"] > 0 and delivery["lost_count"] == 0, delivery
    assert not delivery["unknown"], delivery
    lanes_cut = SEND_THREADS * (1 + len(workers))  # the killed worker; both at the restart
    assert delivery["repeated_count"] <= lanes_cut, delivery
    assert all(r["attempts"] >= 2 for r in delivery["repeated"].values()), delivery

    # Every process is still up: none gave up on the database while it restarted.
    assert all(alive.values()), f"a process exited: {alive}\n{context}"
