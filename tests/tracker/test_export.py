"""Pushing bugs to trackers and pulling their state back, on every configured database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from critdesk.adapters.tracker import FakeTracker
from critdesk.audit.models import AuditEvent
from critdesk.auth.models import User
from critdesk.bug import export
from critdesk.errors import Conflict
from tests.bug.test_api import COMPLETE, file_bug
from tests.case.test_api import ALICE, CAROL, ENG1, report


def push(database, clock, key, tracker, actor=ENG1):  # type: ignore[no-untyped-def]
    with database.session() as db:
        engineer = db.scalar(select(User).where(User.email == actor))
        bug = export.bug_by_key(db=db, key=key)
        return export.export_bug(db=db, bug=bug, tracker=tracker, actor=engineer, now=clock.now)


def sync(database, clock, tracker):  # type: ignore[no-untyped-def]
    return export.sync_all_in_units(units=database.session, tracker=tracker, now=clock.now)


def actions(database, key):  # type: ignore[no-untyped-def]
    with database.session(read_only=True) as db:
        query = select(AuditEvent.action).where(AuditEvent.object_id == key)
        return list(db.scalars(query.order_by(AuditEvent.id)))


def test_a_fix_recorded_in_jira_reaches_every_linked_case(
    client, login, database, clock, jira, make_jira
) -> None:
    eng = login(ENG1)
    bug = file_bug(client, eng)
    refs = [report(client, login(ALICE))["ref"], report(client, login(CAROL), env="ch-prod")["ref"]]
    for ref in refs:
        client.post(f"/api/v1/cases/{ref}/bugs", headers=eng, json={"bug": bug["key"]})
    client.post(f"/api/v1/bugs/{bug['key']}/state", headers=eng, json={"state": "in_progress"})
    tracker = make_jira()
    assert push(database, clock, bug["key"], tracker).ref == "CRIT-1"
    assert jira.rejections == []
    staff_view = client.get(f"/api/v1/bugs/{bug['key']}", headers=eng).json()
    assert staff_view["external_refs"]["jira"] == "CRIT-1"
    assert [r.outcome for r in sync(database, clock, tracker)] == ["unchanged"]

    jira.move("CRIT-1", "Done", "done", "Fixed", (("10.4.3", False),))
    clock.advance(hours=3)
    [result] = sync(database, clock, tracker)
    assert (result.outcome, result.state, result.fix_version) == ("changed", "fixed", "10.4.3")
    for ref, who in zip(refs, (ALICE, CAROL), strict=True):
        event = client.get(f"/api/v1/cases/{ref}", headers=login(who)).json()["timeline"][-1]
        assert event["kind"] == "bug_fixed"
        assert event["data"]["fix_version"] == "10.4.3"
    fixed = client.get(f"/api/v1/bugs/{bug['key']}", headers=eng).json()
    assert (fixed["state"], fixed["fix_version"]) == ("fixed", "10.4.3")

    # Nothing new in Jira: nothing happens, nothing is written.
    assert [r.outcome for r in sync(database, clock, tracker)] == ["unchanged"]
    assert actions(database, bug["key"])[-3:] == [
        "bug.exported",
        "bug.state_changed",
        "bug.tracker_pulled",
    ]


def test_a_move_critdesk_refuses_is_reported_not_forced_and_retried_later(
    client, login, database, clock
) -> None:
    eng = login(ENG1)
    bug = file_bug(client, eng)
    fake = FakeTracker(name="jira")
    push(database, clock, bug["key"], fake)
    fake.set_state("FAKE-1", "fixed", "10.4.3")
    with database.session() as db:
        [result] = export.sync_all(db=db, tracker=fake, now=clock.now)
    assert result.outcome == "refused"
    assert "a new bug cannot become fixed" in result.message
    assert client.get(f"/api/v1/bugs/{bug['key']}", headers=eng).json()["state"] == "new"
    assert [r.outcome for r in sync(database, clock, fake)] == ["refused"]
    assert actions(database, bug["key"]).count("bug.tracker_pulled") == 1  # reported once

    client.post(f"/api/v1/bugs/{bug['key']}/state", headers=eng, json={"state": "in_progress"})
    [result] = sync(database, clock, fake)
    assert (result.outcome, result.state) == ("changed", "fixed")
    assert [r.outcome for r in sync(database, clock, fake)] == ["unchanged"]


def test_only_submitted_reports_leave_and_without_customer_names(
    client, login, database, clock
) -> None:
    eng = login(ENG1)
    fake = FakeTracker(name="github")
    draft = client.post("/api/v1/bugs", headers=eng, json=COMPLETE | {"submit": False}).json()
    with pytest.raises(Conflict, match="is a draft"):
        push(database, clock, draft["key"], fake)
    assert fake.calls == []

    case = report(client, login(ALICE))["ref"]
    text = "Northwind Insurance (alice@northwind.example) sees it on NW-PROD after 10 calls."
    bug = file_bug(
        client,
        eng,
        description=text,
        environment=COMPLETE["environment"] | {"other": "only on nw-prod"},
    )
    client.post(f"/api/v1/cases/{case}/bugs", headers=eng, json={"bug": bug["key"]})
    push(database, clock, bug["key"], fake)
    [sent] = fake.pushed()
    assert sent.description == "[customer] ([contact]) sees it on [environment] after 10 calls."
    assert sent.environment["other"] == "only on [environment]"
    assert sent.linked_cases == 1
    assert "northwind" not in repr(sent).lower() and case not in repr(sent)


def test_a_change_made_in_critdesk_is_not_undone_by_a_tracker_behind_it(
    client, login, database, clock, github, make_github
) -> None:
    eng = login(ENG1)
    bug = file_bug(client, eng)
    tracker = make_github()
    assert push(database, clock, bug["key"], tracker).ref == 1
    # Triaged in critdesk; the GitHub issue is still open without labels ("new").
    client.post(f"/api/v1/bugs/{bug['key']}/state", headers=eng, json={"state": "confirmed"})
    assert [r.outcome for r in sync(database, clock, tracker)] == ["unchanged"]
    assert client.get(f"/api/v1/bugs/{bug['key']}", headers=eng).json()["state"] == "confirmed"

    github.move(1, "open", labels=("critdesk", "severity:S1", "in-progress"))
    assert [r.state for r in sync(database, clock, tracker)] == ["in_progress"]

    client.patch(f"/api/v1/bugs/{bug['key']}", headers=eng, json={"title": "Pool leak on timeouts"})
    again = push(database, clock, bug["key"], tracker)
    assert (again.ref, again.created) == (1, False)
    assert len(github.issues) == 1 and github.issues["1"]["title"] == "Pool leak on timeouts"

    github.move(1, "closed", "not_planned")
    assert [r.state for r in sync(database, clock, tracker)] == ["wont_fix"]
