# ruff: noqa: F811 (the runner fixtures are imported by name)
"""The SLA sweeps with the clock injected: warning at 75 % and breach at 100 % of the
start-investigating target in the package's business time, each exactly once per case however
often and by however many runners the sweeps run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from critdesk.case import service as cases
from critdesk.case.models import Case, CaseEvent
from critdesk.case.rules import Impact
from critdesk.jobs.periodic import run_sla_sweeps
from critdesk.notification.models import Notification
from tests.case.test_actions import act
from tests.case.test_api import ALICE, AM, CAROL, ENG1, LEAD, report
from tests.jobs.runners import (  # noqa: F401
    mailer,
    runner,
    runtime,
    webhooks,
)

# Business: Mon–Fri 09:00–17:30 Europe/London, England holidays; S1 is 4 business hours.
# Friday 28 May 2027, 16:00 BST; Monday 31 May is the Spring bank holiday.
FRIDAY_1600 = datetime(2027, 5, 28, 15, 0, tzinfo=UTC)
TUESDAY = datetime(2027, 6, 1, tzinfo=UTC)


def kinds(client, headers, ref: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        e["kind"] for e in client.get(f"/api/v1/cases/{ref}", headers=headers).json()["timeline"]
    ]


def outbox(database, ref: str, kind: str, channel: str = "email") -> list[str]:  # type: ignore[no-untyped-def]
    with database.session() as db:
        return sorted(
            db.scalars(
                select(Notification.recipient).where(
                    Notification.case_id == int(ref[4:]),
                    Notification.kind == kind,
                    Notification.channel == channel,
                )
            )
        )


def test_a_friday_afternoon_case_warns_and_breaches_on_tuesday_after_the_bank_holiday(
    client, login, clock, runner, database, mailer
) -> None:
    clock.set(FRIDAY_1600)
    case = report(client, login(CAROL), env="ch-prod")
    ref = case["ref"]
    # 1 h 30 of business time on Friday; the weekend and the bank holiday Monday are closed.
    assert case["sla"]["target_seconds"] == 4 * 3600
    with database.session() as db:
        row = db.get(Case, int(ref[4:]))
        assert row.sla_warn_at == datetime(2027, 6, 1, 9, 30, tzinfo=UTC)  # Tue 10:30 BST
        assert row.sla_due_at == datetime(2027, 6, 1, 10, 30, tzinfo=UTC)  # Tue 11:30 BST
    lead = login(LEAD)
    quiet = [
        datetime(2027, 5, 28, 16, 25, tzinfo=UTC),  # Friday 17:25 BST, still open
        datetime(2027, 5, 29, 12, 0, tzinfo=UTC),  # Saturday
        datetime(2027, 5, 31, 12, 0, tzinfo=UTC),  # bank holiday Monday
        datetime(2027, 6, 1, 9, 29, tzinfo=UTC),  # Tuesday 10:29 BST
    ]
    for at in quiet:
        clock.set(at)
        runner.run()
        assert "sla_warning" not in kinds(client, lead, ref), at

    for minutes in (30, 31, 45, 89):  # Tuesday 10:30 to 11:29 BST, swept again and again
        clock.set(datetime(2027, 6, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes))
        runner.run()
        runner.run()
    assert kinds(client, lead, ref).count("sla_warning") == 1
    assert "sla_breach" not in kinds(client, lead, ref)
    # The warning is the desk's own escalation: internal, and told to the leads only.
    assert "sla_warning" not in kinds(client, login(CAROL), ref)
    assert outbox(database, ref, "sla_warning") == [LEAD]

    for minutes in (90, 91, 120, 24 * 60):  # from Tuesday 11:30 BST on
        clock.set(datetime(2027, 6, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes))
        runner.run()
    timeline = kinds(client, login(CAROL), ref)
    assert timeline.count("sla_breach") == 1
    body = client.get(f"/api/v1/cases/{ref}", headers=lead).json()
    assert body["sla"]["status"] == "breached"
    # Escalated: the leads and the organisation's account manager; the customer is told.
    assert outbox(database, ref, "sla_breach") == sorted([AM, CAROL, LEAD])
    assert outbox(database, ref, "sla_breach", "in_app") == sorted([AM, CAROL, LEAD])
    subjects = [str(m["Subject"]) for m in mailer.sent if ref in str(m["Subject"])]
    assert subjects.count(f"[{ref}] SLA breached, investigation overdue: {case['title']}") == 3
    assert subjects.count(f"[{ref}] SLA warning, investigation due soon: {case['title']}") == 1


def test_a_case_reported_friday_evening_starts_its_clock_on_tuesday_morning(
    client, login, clock, runner, database
) -> None:
    clock.set(datetime(2027, 5, 28, 17, 0, tzinfo=UTC))  # Friday 18:00 BST: closed
    ref = report(client, login(CAROL), env="ch-prod")["ref"]
    # Clock from Tuesday 09:00 BST: warning at 12:00, breach at 13:00 BST.
    clock.set(datetime(2027, 6, 1, 10, 59, tzinfo=UTC))
    runner.run()
    assert outbox(database, ref, "sla_warning") == []
    clock.set(datetime(2027, 6, 1, 11, 0, tzinfo=UTC))
    runner.run()
    assert outbox(database, ref, "sla_warning") == [LEAD]
    clock.set(datetime(2027, 6, 1, 11, 59, tzinfo=UTC))
    runner.run()
    assert outbox(database, ref, "sla_breach") == []
    clock.set(datetime(2027, 6, 1, 12, 0, tzinfo=UTC))
    runner.run()
    assert outbox(database, ref, "sla_breach") == sorted([AM, CAROL, LEAD])


def test_starting_the_investigation_in_time_stops_both_timers(
    client, login, clock, runner, database
) -> None:
    ref = report(client, login(ALICE))["ref"]  # Enterprise S1: 30 minutes, 24x7
    clock.advance(minutes=25)
    runner.run()
    act(client, login(ENG1), ref, "start_investigation")
    clock.advance(hours=2)
    runner.run()
    timeline = kinds(client, login(LEAD), ref)
    assert timeline.count("sla_warning") == 1 and "sla_breach" not in timeline
    assert outbox(database, ref, "sla_breach") == []


def test_a_case_found_past_both_its_warning_and_breach_gets_only_the_breach(
    client, login, clock, runner, database
) -> None:
    ref = report(client, login(ALICE))["ref"]
    act(client, login(LEAD), ref, "assign", {"engineer": ENG1})
    clock.advance(hours=3)  # the runners were down for three hours
    runner.run()
    runner.run()
    timeline = kinds(client, login(LEAD), ref)
    assert timeline.count("sla_breach") == 1 and "sla_warning" not in timeline
    # Alice is the reporter and Northwind's admin (one e-mail); the owner hears of it too.
    assert outbox(database, ref, "sla_breach") == sorted([ALICE, AM, ENG1, LEAD])


def _due_cases(database, clock, count: int) -> list[int]:  # type: ignore[no-untyped-def]
    from critdesk.auth.models import User

    with database.session() as db:
        alice = db.scalars(select(User).where(User.email == ALICE)).one()
        environment = alice.organisation.environments[0].id
        ids = []
        for number in range(count):
            new = cases.NewCase(
                title=f"Outage {number}",
                description="Everything is down.",
                environment_id=environment,
                impact=Impact(app_unavailable=True),
                breadth="all_users",
                end_users_blocked=True,
            )
            case = cases.report_case(db=db, reporter=alice, new=new, now=clock.now).case
            ids.append(case.id)
    return ids


def test_concurrent_sweeps_breach_each_case_exactly_once(database, settings, clock, demo) -> None:
    ids = _due_cases(database, clock, 120)
    later = clock.advance(hours=1)
    barrier = threading.Barrier(4)
    results: list[dict[str, int]] = []

    def sweep() -> None:
        barrier.wait(timeout=10)
        results.append(run_sla_sweeps(database, settings, later))

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r["sla_breaches"] for r in results) >= len(ids)
    with database.session() as db:
        per_case = dict(
            db.execute(
                select(CaseEvent.case_id, func.count())
                .where(CaseEvent.kind == "sla_breach", CaseEvent.case_id.in_(ids))
                .group_by(CaseEvent.case_id)
            ).all()
        )
        assert per_case == {case_id: 1 for case_id in ids}
        breached = db.scalar(
            select(func.count()).where(Case.id.in_(ids), Case.sla_breached.is_(True))
        )
        assert breached == len(ids)


@pytest.mark.parametrize("batch", [7])
def test_a_sweep_takes_every_due_case_batch_after_batch(
    database, settings, clock, demo, monkeypatch, batch
) -> None:
    from critdesk.sla import jobs as sla_jobs

    monkeypatch.setattr(sla_jobs, "BATCH", batch)
    monkeypatch.setattr(sla_jobs, "SQLITE_BATCH", batch)
    ids = _due_cases(database, clock, 3 * batch + 2)
    done = run_sla_sweeps(database, settings, clock.advance(hours=1))
    with database.session() as db:
        count = db.scalar(
            select(func.count()).where(CaseEvent.kind == "sla_breach", CaseEvent.case_id.in_(ids))
        )
    assert count == len(ids) and done["sla_breaches"] >= len(ids)
