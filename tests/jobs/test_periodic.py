"""The embedded runner: every sweep runs, each claim happens once even with two runners."""

from __future__ import annotations

from critdesk.jobs.periodic import EmbeddedRunner, run_sweeps
from tests.case.test_actions import act
from tests.case.test_api import ALICE, ENG1, report


def test_two_runners_record_each_expiry_and_reminder_once(
    client, login, clock, database, settings
) -> None:
    ref = report(client, login(ALICE))["ref"]
    eng = login(ENG1)
    act(client, eng, ref, "start_investigation")
    client.post(
        f"/api/v1/cases/{ref}/requests",
        headers=eng,
        json={"kind": "question", "message": "?", "due_at": "2026-11-25T10:20:00Z"},
    )
    client.post(
        f"/api/v1/cases/{ref}/cloud-access",
        headers=eng,
        json={"justification": "Check the runtime logs please", "minutes": 10},
    )
    clock.advance(minutes=30)
    first = run_sweeps(database, settings, clock.now)
    second = run_sweeps(database, settings, clock.now)
    assert first["cloud_access_expiry"] == 1 and first["info_request_reminders"] == 1
    assert second["cloud_access_expiry"] == 0 and second["info_request_reminders"] == 0
    kinds = [e["kind"] for e in client.get(f"/api/v1/cases/{ref}", headers=eng).json()["timeline"]]
    assert kinds.count("cloud_access_expired") == 1
    assert kinds.count("info_request_reminder") == 1


def test_the_embedded_runner_runs_in_the_background_and_stops(
    database, settings, clock, demo
) -> None:
    clock.advance(days=30)  # the demo's resolved case is past its confirmation window
    runner = EmbeddedRunner(database, settings, clock, interval=0.05)
    runner.start()
    import time

    deadline = time.monotonic() + 10
    from sqlalchemy import func, select

    from critdesk.case.models import Case

    while time.monotonic() < deadline:
        with database.session() as session:
            if session.scalar(select(func.count()).where(Case.state == "resolved")) == 0:
                break
        time.sleep(0.05)
    runner.stop()
    with database.session() as session:
        assert session.scalar(select(func.count()).where(Case.state == "resolved")) == 0
