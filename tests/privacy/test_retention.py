"""Retention: files go a configured number of days after their case closed — once, audited,
on the timeline — and downloads then answer 410."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from critdesk.adapters.storage import attachments_root
from critdesk.jobs.periodic import SWEEPS, run_sweeps
from critdesk.logs import jobs as log_jobs
from critdesk.logs.models import LogAnalysis
from critdesk.privacy import retention
from tests.case.test_api import ALICE, BOB, ENG1, report
from tests.privacy.conftest import attachments, audit_actions, close, upload_ok

DAYS = 365


def apply(database: Any, now: Any, days: int = DAYS) -> int:
    with database.session() as db:
        return retention.apply_retention(db=db, now=now, days=days)


def purge(database: Any, app: Any, now: Any) -> int:
    with database.session() as db:
        return retention.purge_removed(db=db, storage=app.state.storage, now=now)


def stored(settings: Any) -> set[str]:
    root = attachments_root(settings)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def download(client: Any, headers: dict[str, str], ref: str, attachment_id: int) -> Any:
    return client.get(f"/api/v1/cases/{ref}/attachments/{attachment_id}", headers=headers)


def test_files_go_once_the_retention_period_after_closing_has_passed(
    client, login, database, clock, settings, app, closed_case
) -> None:
    ref, files = closed_case["ref"], closed_case["files"]
    keys = {a.storage_key for a in attachments(database).values()}
    assert keys <= stored(settings)

    clock.advance(days=DAYS - 1)
    assert apply(database, clock.now) == 0
    clock.advance(days=1)
    assert apply(database, clock.now) == 3
    rows = attachments(database)
    assert {(r.deleted_at, r.deleted_reason, r.purged_at) for r in rows.values()} == {
        (clock.now, "retention", None)
    }
    # The bytes stay until the removal has committed and a later purge runs.
    assert keys <= stored(settings)
    assert purge(database, app, clock.now) == 3
    assert stored(settings) == set()
    assert all(r.purged_at == clock.now for r in attachments(database).values())

    audited = audit_actions(database, "attachment.removed")
    assert sorted(int(e.object_id) for e in audited) == sorted(rows)
    assert {e.data["reason"] for e in audited} == {"retention"}
    assert {e.actor_id for e in audited} == {None}

    gone = download(client, login(BOB), ref, files["bob"]["id"])
    assert gone.status_code == 410
    error = gone.json()["error"]
    assert error["code"] == "attachment_removed"
    assert "bob-runtime.log" in error["message"] and "retention" in error["message"]
    assert error["details"]["reason"] == "retention"


def test_a_second_pass_and_a_second_runner_change_nothing(
    client, login, database, clock, app, closed_case
) -> None:
    clock.advance(days=DAYS + 1)
    assert apply(database, clock.now) == 3
    assert purge(database, app, clock.now) == 3
    before = len(audit_actions(database, "attachment.removed"))
    # Another runner that had read the same candidates claims nothing.
    with database.session() as db:
        for attachment_id in attachments(database):
            assert not retention.remove_attachment(
                db=db, attachment_id=attachment_id, reason="retention", now=clock.now
            )
    assert apply(database, clock.now) == 0
    assert purge(database, app, clock.now) == 0
    assert len(audit_actions(database, "attachment.removed")) == before == 3


def test_the_timeline_shows_the_removal_and_customers_see_only_theirs(
    client, login, clock, database, closed_case
) -> None:
    ref = closed_case["ref"]
    clock.advance(days=DAYS + 1)
    apply(database, clock.now)

    def removals(headers: dict[str, str]) -> list[dict[str, Any]]:
        case = client.get(f"/api/v1/cases/{ref}", headers=headers).json()
        return [e for e in case["timeline"] if e["kind"] == "attachment_removed"]

    names = {e["data"]["name"] for e in removals(login(ENG1))}
    assert names == {"bob-runtime.log", "notes.txt", "repro.txt"}
    seen_by_customer = removals(login(ALICE))
    assert {e["data"]["name"] for e in seen_by_customer} == {"bob-runtime.log", "notes.txt"}
    assert all("365 days after the case closed" in e["message"] for e in seen_by_customer)
    # Removed files leave the file list; the internal one still answers 404 to a customer.
    listed = client.get(f"/api/v1/cases/{ref}/attachments", headers=login(ALICE)).json()
    assert listed["items"] == []
    internal = closed_case["files"]["internal"]["id"]
    assert download(client, login(ALICE), ref, internal).status_code == 404
    assert download(client, login(ENG1), ref, internal).status_code == 410


def test_open_cases_and_a_zero_retention_keep_their_files(
    client, login, database, clock, closed_case
) -> None:
    open_case = report(client, login(BOB))
    upload_ok(client, login(BOB), open_case["ref"], name="still-open.log")
    clock.advance(days=10 * DAYS)
    assert apply(database, clock.now, days=0) == 0
    assert apply(database, clock.now) == 3  # the closed case's three, not the open one's
    remaining = [a for a in attachments(database).values() if a.deleted_at is None]
    assert [a.name for a in remaining] == ["still-open.log"]


def test_the_job_runner_removes_then_purges_on_the_next_pass(
    database, clock, settings, closed_case
) -> None:
    assert "attachment_retention" in {sweep.name for sweep in SWEEPS}
    config = settings.model_copy(update={"attachment_retention_days": 30})
    clock.advance(days=31)
    first = run_sweeps(database, config, clock.now)
    assert first["attachment_retention"] == 3
    assert len(stored(settings)) == 3
    second = run_sweeps(database, config, clock.now)
    assert second["attachment_retention"] == 3  # purged
    assert stored(settings) == set()
    assert run_sweeps(database, config, clock.now)["attachment_retention"] == 0


def test_runners_racing_each_other_remove_each_file_exactly_once(
    backend, database, clock, closed_case, monkeypatch
) -> None:
    """Both runners read the same candidates before either claims one (a barrier holds them
    between reading and claiming); the conditional update lets only one claim each file."""
    if backend == "sqlite":
        pytest.skip("SQLite runs one writer transaction at a time (BEGIN IMMEDIATE): no race")
    clock.advance(days=DAYS + 1)
    barrier = threading.Barrier(2, timeout=30)
    claim = retention.remove_attachment
    first = min(attachments(database))

    def claim_after_both_have_read(**kwargs: Any) -> bool:
        if kwargs["attachment_id"] == first:
            barrier.wait()
        return claim(**kwargs)

    monkeypatch.setattr(retention, "remove_attachment", claim_after_both_have_read)
    with ThreadPoolExecutor(2) as pool:
        removed = list(pool.map(lambda _: apply(database, clock.now), range(2)))
    assert sum(removed) == 3
    assert len(audit_actions(database, "attachment.removed")) == 3


def test_a_removed_log_loses_its_analysis_summary(app, client, login, database, clock) -> None:
    bob = login(BOB)
    ref = report(client, bob)["ref"]
    created = upload_ok(client, bob, ref, name="runtime.log")
    assert log_jobs.analyse_pending(database, clock.now, app.state.storage, clock=clock) == 1
    close(client, login, ref)
    clock.advance(days=DAYS + 1)
    assert apply(database, clock.now) == 1
    with database.session(read_only=True) as db:
        analysis = db.scalar(select(LogAnalysis).where(LogAnalysis.attachment_id == created["id"]))
        assert analysis is not None and analysis.summary is None
