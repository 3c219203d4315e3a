"""Fan-out into the outbox: the event marked in the transaction of the change, its rows written
by the drain — recipients by role and preference, one row per (event, recipient, channel),
exactly once, nothing for a change rolled back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from critdesk.auth.models import User
from critdesk.case import service as cases
from critdesk.case.models import Case, CaseEvent
from critdesk.notification import service as notifications
from critdesk.notification.jobs import fan_out_pending
from critdesk.notification.models import Notification
from tests.case.test_actions import act
from tests.case.test_api import ALICE, AM, BOB, ENG1, LEAD, report


def rows(database, ref: str, kind: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    fan_out_pending(database)
    with database.session() as db:
        return sorted(
            db.execute(
                select(Notification.recipient, Notification.channel).where(
                    Notification.case_id == int(ref[4:]), Notification.kind == kind
                )
            ).all()
        )


def test_resolution_tells_the_reporter_and_the_customers_admins_by_email_and_in_app(
    client, login, database
) -> None:
    ref = report(client, login(BOB))["ref"]
    eng = login(ENG1)
    act(client, eng, ref, "start_investigation")
    act(
        client,
        eng,
        ref,
        "resolve",
        {"outcomes": [{"type": "resolution_advised", "text": "Restart the gateway."}]},
    )
    assert rows(database, ref, "reported") == [
        (BOB, "email"),
        (BOB, "in_app"),
        (LEAD, "email"),
        (LEAD, "in_app"),
    ]
    assert rows(database, ref, "resolved") == [
        (ALICE, "email"),
        (ALICE, "in_app"),
        (BOB, "email"),
        (BOB, "in_app"),
    ]
    # Nobody on the vendor side is told of their own resolution; the account manager only
    # hears of breaches.
    assert all(r[0] not in (ENG1, AM) for r in rows(database, ref, "resolved"))


def test_a_preference_switches_one_channel_off(client, login, database) -> None:
    alice = login(ALICE)
    response = client.put(
        "/api/v1/notifications/preferences",
        headers=alice,
        json={"preferences": [{"kind": "reported", "channel": "email", "enabled": False}]},
    )
    assert response.status_code == 200
    chosen = {(p["kind"], p["channel"]): p for p in response.json()["items"]}
    assert chosen[("reported", "email")] == {
        "kind": "reported",
        "channel": "email",
        "enabled": False,
        "default": True,
    }
    ref = report(client, alice)["ref"]
    assert (ALICE, "email") not in rows(database, ref, "reported")
    assert (ALICE, "in_app") in rows(database, ref, "reported")
    bad = client.put(
        "/api/v1/notifications/preferences",
        headers=alice,
        json={"preferences": [{"kind": "lunch", "channel": "email", "enabled": False}]},
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_kind"


def test_a_rolled_back_change_leaves_no_notification(database, clock, demo) -> None:
    with database.session() as db:
        before = db.scalar(select(func.count()).select_from(Notification))
    with pytest.raises(RuntimeError), database.session() as db:
        bob = db.scalars(select(User).where(User.email == BOB)).one()
        case = cases.load_case(db, db.scalar(select(func.min(Case.id))))
        cases.record_event(
            db=db, case=case, actor=bob, now=clock.now, kind="comment", message="hello"
        )
        db.flush()
        raise RuntimeError("the request failed after the event was written")
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(Notification)) == before


def test_queue_email_is_idempotent_by_key(database, clock, demo) -> None:
    for _ in range(2):
        with database.session() as db:
            notifications.queue_email(
                db=db,
                to="stranger@example.org",
                subject="We could not open a case from your e-mail",
                text="Only named contacts of entitled organisations can open cases by e-mail.",
                headers={"In-Reply-To": "<abc@example.org>"},
                key="inbound-refusal:<abc@example.org>",
                now=clock.now,
            )
    with database.session() as db:
        [row] = db.scalars(
            select(Notification).where(Notification.recipient == "stranger@example.org")
        ).all()
    assert row.state == "pending" and row.channel == "email" and row.payload["subject"]


def test_queued_email_goes_out_like_any_other(database, clock, demo, runtime) -> None:
    from tests.jobs.runners import EmbeddedPass

    with database.session() as db:
        notifications.queue_email(
            db=db,
            to="stranger@example.org",
            subject="Re: help",
            text="Plain",
            html="<p>Rich</p>",
            headers={"In-Reply-To": "<abc@example.org>", "Auto-Submitted": "auto-replied"},
            key="refusal-1",
            now=clock.now,
        )
    EmbeddedPass(runtime).run()
    [sent] = [m for m in runtime.transports.mailer.sent if m["To"] == "stranger@example.org"]
    assert sent["In-Reply-To"] == "<abc@example.org>"
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent.get_body(("html",)).get_content().strip() == "<p>Rich</p>"
    assert sent["Message-ID"].endswith("@critdesk.localhost>")


def test_the_in_app_inbox_lists_reads_and_refuses_another_users_notification(client, login) -> None:
    bob = login(BOB)
    ref = report(client, bob)["ref"]
    fan_out_pending(client.app.state.db)
    inbox = client.get("/api/v1/notifications?unread=true", headers=bob).json()
    mine = [i for i in inbox["items"] if i["case"] == ref]
    assert [i["headline"] for i in mine] == ["Case received: Checkout fails for everyone"]
    assert inbox["unread"] >= 1
    lead_item = client.get("/api/v1/notifications", headers=login(LEAD)).json()["items"][0]
    refused = client.post(f"/api/v1/notifications/{lead_item['id']}/read", headers=bob)
    assert refused.status_code == 404
    read = client.post(f"/api/v1/notifications/{mine[0]['id']}/read", headers=bob)
    assert read.json() == {"read": 1}
    client.post("/api/v1/notifications/read-all", headers=bob)
    assert client.get("/api/v1/notifications", headers=bob).json()["unread"] == 0
    assert client.get("/api/v1/notifications").status_code == 401


def test_only_admins_manage_webhook_endpoints(client, login) -> None:
    body = {"url": "https://hooks.example.org/critdesk"}
    assert client.post("/api/v1/admin/webhooks", headers=login(LEAD), json=body).status_code == 403
    admin = login("admin@vendor.example")
    created = client.post("/api/v1/admin/webhooks", headers=admin, json=body)
    assert created.status_code == 201 and len(created.json()["secret"]) >= 32
    listed = client.get("/api/v1/admin/webhooks", headers=admin).json()
    assert "secret" not in listed[0]
    gone = client.delete(f"/api/v1/admin/webhooks/{created.json()['id']}", headers=admin)
    assert gone.json()["active"] is False


def test_an_event_rolled_back_with_its_savepoint_leaves_no_notification(
    database, clock, demo
) -> None:
    fan_out_pending(database)  # the demo's own events
    with database.session() as db:
        before = db.scalar(select(func.count()).select_from(Notification))
        bob = db.scalars(select(User).where(User.email == BOB)).one()
        case = cases.load_case(db, db.scalar(select(func.min(Case.id))))
        savepoint = db.begin_nested()
        cases.record_event(db=db, case=case, actor=bob, now=clock.now, kind="comment", message="x")
        db.flush()
        savepoint.rollback()
        cases.record_event(db=db, case=case, actor=bob, now=clock.now, kind="comment", message="y")
    fan_out_pending(database)
    with database.session() as db:
        rows = db.scalars(select(Notification).where(Notification.kind == "comment")).all()
        assert db.scalar(select(func.count()).select_from(Notification)) == before + len(rows)
        assert {r.event_id for r in rows} and all(r.event_id for r in rows)
        assert len({r.event_id for r in rows}) == 1


def test_each_event_is_fanned_out_once_and_a_second_drain_writes_nothing(
    client, login, database
) -> None:
    ref = report(client, login(BOB))["ref"]
    with database.session() as db:
        event = db.scalars(
            select(CaseEvent).where(CaseEvent.case_id == int(ref[4:]), CaseEvent.kind == "reported")
        ).one()
        # Marked in the report's own transaction, with the case as it stood.
        assert event.notify is not None and event.notify["state"] == "new"
        assert db.scalar(select(func.count()).where(Notification.event_id == event.id)) == 0
    assert fan_out_pending(database) >= 1
    written = rows(database, ref, "reported")
    assert written
    with database.session() as db:
        assert db.get(CaseEvent, event.id).notify is None
        # A drain that crashed after writing the rows but before clearing the mark is run
        # again: the rows' keys make the second pass a no-op.
        db.execute(update(CaseEvent).where(CaseEvent.id == event.id).values(notify=event.notify))
    assert fan_out_pending(database) == 1
    assert rows(database, ref, "reported") == written


def test_the_owner_at_the_time_of_the_event_is_told_not_a_later_one(
    client, login, database
) -> None:
    ref = report(client, login(BOB))["ref"]
    lead = login(LEAD)
    act(client, lead, ref, "assign", {"engineer": ENG1})
    act(client, lead, ref, "assign", {"engineer": "eng2@vendor.example"})
    # Both assignments are fanned out after the second one: each tells its own engineer.
    fan_out_pending(database)
    with database.session() as db:
        told = db.execute(
            select(Notification.event_id, Notification.recipient)
            .where(Notification.case_id == int(ref[4:]), Notification.kind == "assigned")
            .where(Notification.channel == "email")
            .order_by(Notification.event_id)
        ).all()
    by_event: dict[int, set[str]] = {}
    for event_id, recipient in told:
        by_event.setdefault(event_id, set()).add(recipient)
    first, second = (by_event[k] for k in sorted(by_event))
    assert ENG1 in first and "eng2@vendor.example" not in first
    assert "eng2@vendor.example" in second and ENG1 not in second


def test_sla_breaches_and_warnings_are_claimed_before_an_older_backlog(
    database, clock, demo, settings
) -> None:
    """A burst of cases leaves routine e-mails waiting; a breach found meanwhile goes out in the
    next batch, not after the backlog."""
    from datetime import timedelta

    from critdesk.notification.jobs import _claim

    with database.session() as db:
        for n in range(5):
            notifications.queue_email(
                db=db,
                to=f"routine{n}@example.org",
                subject="routine",
                text="routine",
                key=f"routine-{n}",
                now=clock.now - timedelta(minutes=10 - n),
            )
        for kind, minutes in (("sla_breach", 1), ("sla_warning", 2)):
            db.add(
                Notification(
                    key=f"{kind}-1",
                    channel="email",
                    kind=kind,
                    recipient="lead@vendor.example",
                    state="pending",
                    attempts=0,
                    next_attempt_at=clock.now - timedelta(minutes=minutes),
                    created_at=clock.now,
                )
            )
    urgent = ["sla_breach", "sla_warning"]
    with database.session() as db:
        # The backlog's oldest due row (the demo's own notifications are in it too).
        expected = db.scalar(
            select(Notification.id)
            .where(Notification.state == "pending", Notification.kind.not_in(urgent))
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(1)
        )
        claimed = [i for i, _ in _claim(db, clock.now, "test-worker", 3, settings)]
        kinds = dict(
            db.execute(
                select(Notification.id, Notification.kind).where(Notification.id.in_(claimed))
            )
            .tuples()
            .all()
        )
    assert len(claimed) == 3
    assert sorted(k for k in kinds.values() if k in urgent) == urgent
    assert [i for i, k in kinds.items() if k not in urgent] == [expected]  # then the oldest


def test_the_drain_fans_out_a_backlog_a_short_unit_of_work_at_a_time(
    client, login, database, monkeypatch
) -> None:
    """On SQLite a unit of work holds every writer back: the drain takes the marked events in
    batches of ``SQLITE_FAN_OUT_BATCH`` (PostgreSQL: ``FAN_OUT_BATCH``), a commit each."""
    from critdesk.notification import outbox

    fan_out_pending(database)  # the demo's own events
    refs = [report(client, login(BOB))["ref"] for _ in range(5)]
    monkeypatch.setattr(outbox, "SQLITE_FAN_OUT_BATCH", 2)
    monkeypatch.setattr(outbox, "FAN_OUT_BATCH", 2)
    units: list[int] = []
    real = outbox.fan_out

    def counting(db, *, limit=None, routine_by=None):  # type: ignore[no-untyped-def]
        units.append(real(db, limit=limit, routine_by=routine_by))
        return units[-1]

    monkeypatch.setattr(outbox, "fan_out", counting)
    assert fan_out_pending(database) == 5
    assert units == [2, 2, 1]
    for ref in refs:
        assert rows(database, ref, "reported")


def _pending_emails(database) -> set[str]:  # type: ignore[no-untyped-def]
    with database.session() as db:
        return set(
            db.scalars(
                select(Notification.key).where(
                    Notification.channel == "email", Notification.state == "pending"
                )
            )
        )


def test_while_the_host_is_busy_routine_email_waits_but_sla_email_does_not(
    database, clock, demo, runtime
) -> None:
    """The embedded runner's hold (jobs/pressure.py): routine rows wait for a quieter moment,
    at most ``outbox_routine_hold_seconds``; SLA warnings and breaches go out at once."""
    from datetime import timedelta

    from critdesk.notification.jobs import deliver_until_idle

    settings = runtime.settings.model_copy(update={"outbox_routine_hold_seconds": 30.0})

    def drain(busy: bool) -> None:
        deliver_until_idle(
            database=database,
            settings=settings,
            transports=runtime.transports,
            clock=clock,
            hold_routine=lambda: busy,
        )

    drain(False)  # the demo's own backlog
    with database.session() as db:
        for key, seconds_ago in (("fresh", 5), ("older", 31)):
            notifications.queue_email(
                db=db,
                to=f"{key}@example.org",
                subject=key,
                text=key,
                key=key,
                now=clock.now - timedelta(seconds=seconds_ago),
            )
        db.add(
            Notification(
                key="breach",
                channel="email",
                kind="sla_breach",
                recipient="lead@vendor.example",
                state="pending",
                attempts=0,
                next_attempt_at=clock.now,
                created_at=clock.now,
            )
        )
    drain(True)
    assert _pending_emails(database) == {"fresh"}
    sent = {m["To"] for m in runtime.transports.mailer.sent}
    assert {"lead@vendor.example", "older@example.org"} <= sent
    clock.advance(seconds=26)  # due 31 s now: held long enough
    drain(True)
    assert _pending_emails(database) == set()


def test_while_the_host_is_busy_only_sla_events_and_old_ones_are_fanned_out(
    client, login, database, clock
) -> None:
    from datetime import timedelta

    from critdesk.notification import outbox

    fan_out_pending(database)  # the demo's own events
    ref = report(client, login(BOB))["ref"]
    routine_by = clock.now - timedelta(seconds=30)
    with database.session() as db:
        assert outbox.has_pending(db, routine_by=routine_by) is False
        assert outbox.has_pending(db) is True
    assert fan_out_pending(database, routine_by=routine_by) == 0
    assert rows(database, ref, "reported") != []  # (rows drains without a hold)
    breach = report(client, login(BOB))["ref"]
    with database.session() as db:
        db.execute(
            update(CaseEvent)
            .where(CaseEvent.case_id == int(breach[4:]), CaseEvent.kind == "reported")
            .values(kind="sla_breach")
        )
    assert fan_out_pending(database, routine_by=routine_by) == 1
