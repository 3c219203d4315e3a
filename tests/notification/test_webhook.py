"""Signed webhooks to a local HTTP receiver that checks every signature: delivery, retries
with backoff, the dead letter an admin sees and retries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from critdesk.adapters.webhook import HttpxWebhookSender
from critdesk.notification.models import Notification
from tests.case.test_actions import ENG2
from tests.case.test_api import ALICE, BOB, ENG1, report

ADMIN = "admin@vendor.example"
BASE = 60.0


@pytest.fixture
def webhooks():  # type: ignore[no-untyped-def]
    sender = HttpxWebhookSender(timeout=5)
    yield sender
    sender.close()


@pytest.fixture
def endpoint(client, login, webhook_receiver, settings) -> dict:  # type: ignore[no-untyped-def]
    settings.notification_retry_base_seconds = BASE
    settings.notification_max_attempts = 4
    northwind = next(
        o["id"]
        for o in client.get("/api/v1/organisations", headers=login(ADMIN)).json()
        if o["name"] == "Northwind Insurance"
    )
    response = client.post(
        "/api/v1/admin/webhooks",
        headers=login(ADMIN),
        json={"url": webhook_receiver.url, "organisation_id": northwind},
    )
    assert response.status_code == 201, response.text
    webhook_receiver.secret = response.json()["secret"]
    return response.json()


def hook_rows(database, ref: str, kind: str | None = None) -> list[Notification]:  # type: ignore[no-untyped-def]
    query = select(Notification).where(
        Notification.case_id == int(ref[4:]), Notification.channel == "webhook"
    )
    if kind is not None:
        query = query.where(Notification.kind == kind)
    with database.session() as db:
        return list(db.scalars(query.order_by(Notification.id)))


def test_a_case_event_is_posted_signed_to_the_organisations_endpoint(
    client, login, runner, webhook_receiver, endpoint, database
) -> None:
    ref = report(client, login(BOB))["ref"]
    runner.run()
    [hook] = [h for h in webhook_receiver.hooks if h.json()["case"]["ref"] == ref]
    assert hook.verified
    assert hook.headers["x-critdesk-event"] == "reported"
    assert hook.headers["x-critdesk-signature"].startswith("sha256=")
    [row] = hook_rows(database, ref)
    assert hook.headers["x-critdesk-delivery"] == str(row.id)
    assert row.state == "sent"
    assert hook.json()["event"] == "reported" and hook.json()["internal"] is False


def test_internal_events_never_reach_a_customers_endpoint(
    client, login, runner, webhook_receiver, endpoint, database
) -> None:
    ref = report(client, login(ALICE))["ref"]
    client.post(
        f"/api/v1/cases/{ref}/comments",
        headers=login(ENG2),
        json={"body": "internal only", "internal": True},
    )
    runner.run()
    assert [r.kind for r in hook_rows(database, ref)] == ["reported"]
    assert all(b"internal only" not in h.body for h in webhook_receiver.hooks)


def test_a_receiver_failing_twice_gets_the_delivery_on_the_third_try_with_backoff(
    client, login, clock, runner, webhook_receiver, endpoint, database
) -> None:
    webhook_receiver.fail_first = 2
    ref = report(client, login(ALICE))["ref"]
    runner.run()
    [row] = hook_rows(database, ref)
    assert row.state == "failed" and row.attempts == 1 and "HTTP 500" in row.last_error
    wait = row.next_attempt_at - clock.now
    assert timedelta(seconds=BASE / 2) <= wait <= timedelta(seconds=BASE)

    runner.run()  # not due yet: nothing is sent
    assert len(webhook_receiver.hooks) == 1
    clock.advance(seconds=BASE)
    runner.run()
    [row] = hook_rows(database, ref)
    assert row.state == "failed" and row.attempts == 2
    wait = row.next_attempt_at - clock.now
    assert timedelta(seconds=BASE) <= wait <= timedelta(seconds=2 * BASE)  # doubled

    clock.advance(seconds=2 * BASE)
    runner.run()
    [row] = hook_rows(database, ref)
    assert row.state == "sent" and row.attempts == 3
    assert len(webhook_receiver.hooks) == 3
    # The same delivery each time, signed afresh each time, verified each time.
    assert {h.headers["x-critdesk-delivery"] for h in webhook_receiver.hooks} == {str(row.id)}
    assert all(h.verified for h in webhook_receiver.hooks)
    assert len({h.body for h in webhook_receiver.hooks}) == 1


def test_an_always_failing_receiver_ends_dead_and_an_admin_retries_it(
    client, login, clock, runner, webhook_receiver, endpoint, database
) -> None:
    webhook_receiver.always_fail = True
    ref = report(client, login(ALICE))["ref"]
    for _ in range(6):
        runner.run()
        clock.advance(hours=1)
    [row] = hook_rows(database, ref, "reported")
    assert row.state == "dead" and row.attempts == 4
    reported = [h for h in webhook_receiver.hooks if h.json()["event"] == "reported"]
    assert len(reported) == 4

    admin = login(ADMIN)
    dead = client.get("/api/v1/admin/notifications?state=dead", headers=admin).json()["items"]
    [listed] = [d for d in dead if d["id"] == row.id]
    assert listed["last_error"].startswith("HTTP 500") and listed["kind"] == "reported"
    refused = client.get("/api/v1/admin/notifications?state=dead", headers=login(ENG1))
    assert refused.status_code == 403
    retry = f"/api/v1/admin/notifications/{row.id}/retry"
    assert client.post(retry, headers=login(ENG1)).status_code == 403

    webhook_receiver.always_fail = False
    retried = client.post(retry, headers=admin)
    assert retried.status_code == 200 and retried.json()["state"] == "pending"
    again = client.post(retry, headers=admin)
    assert again.status_code == 409
    runner.run()
    [row] = hook_rows(database, ref, "reported")
    assert row.state == "sent" and row.attempts == 1
    assert webhook_receiver.hooks[-1].verified


def test_a_vendor_endpoint_hears_internal_escalations(
    client, login, clock, runner, webhook_receiver, database
) -> None:
    response = client.post(
        "/api/v1/admin/webhooks",
        headers=login(ADMIN),
        json={"url": webhook_receiver.url, "kinds": ["sla_warning", "sla_breach"]},
    )
    webhook_receiver.secret = response.json()["secret"]
    ref = report(client, login(ALICE))["ref"]
    clock.advance(minutes=23)  # 75 % of Enterprise S1's 30 minutes
    runner.run()
    clock.advance(minutes=10)
    runner.run()
    events = [h.json()["event"] for h in webhook_receiver.hooks if h.json()["case"]["ref"] == ref]
    assert events == ["sla_warning", "sla_breach"]
    assert all(h.verified for h in webhook_receiver.hooks)


def _endpoint(client, login, receiver, organisation_id, kinds=None):  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/admin/webhooks",
        headers=login(ADMIN),
        json={"url": receiver.url, "organisation_id": organisation_id, "kinds": kinds or []},
    )
    assert response.status_code == 201, response.text
    receiver.secret = response.json()["secret"]
    return response.json()


def test_bug_state_changes_are_posted_signed_to_development_and_linked_customers(
    client, login, runner, webhook_receiver, database
) -> None:
    from tests.bug.test_api import file_bug
    from tests.notification.sinks import WebhookReceiver

    eng = login(ENG1)
    organisations = {
        o["name"]: o["id"] for o in client.get("/api/v1/organisations", headers=login(ADMIN)).json()
    }
    customer = WebhookReceiver().start()
    try:
        # Development's systems hear of bug changes only; Northwind's of everything it may see.
        _endpoint(client, login, webhook_receiver, None, kinds=["bug_state_changed"])
        _endpoint(client, login, customer, organisations["Northwind Insurance"])
        bug = file_bug(client, eng, public=True)
        ref = report(client, login(ALICE))["ref"]
        client.post(f"/api/v1/cases/{ref}/bugs", headers=eng, json={"bug": bug["key"]})
        url = f"/api/v1/bugs/{bug['key']}/state"
        assert client.post(url, headers=eng, json={"state": "in_progress"}).status_code == 200
        fixed = client.post(url, headers=eng, json={"state": "fixed", "fix_version": "10.4.3"})
        assert fixed.status_code == 200, fixed.text
        runner.run()
        runner.run()  # delivered once: a second run sends nothing more
    finally:
        customer.stop()

    for receiver in (webhook_receiver, customer):
        hooks = [h for h in receiver.hooks if h.json()["event"] == "bug_state_changed"]
        assert all(h.verified for h in hooks)
        assert all(h.headers["x-critdesk-event"] == "bug_state_changed" for h in hooks)
        changes = {(h.json()["bug"]["previous_state"], h.json()["bug"]["state"]) for h in hooks}
        assert changes == {(bug["state"], "in_progress"), ("in_progress", "fixed")}
        assert len(hooks) == 2  # one delivery per change, never repeated
        [fixed_hook] = [h for h in hooks if h.json()["bug"]["state"] == "fixed"]
        assert fixed_hook.json()["bug"]["fix_version"] == "10.4.3"
        assert fixed_hook.json()["cases"] == [ref]
    with database.session() as db:
        rows = db.scalars(
            select(Notification).where(Notification.kind == "bug_state_changed")
        ).all()
    assert len(rows) == 4 and {r.state for r in rows} == {"sent"}


def test_internal_bugs_and_unlinked_organisations_get_no_bug_webhooks(
    client, login, runner, webhook_receiver, database
) -> None:
    from tests.bug.test_api import file_bug

    eng = login(ENG1)
    organisations = {
        o["name"]: o["id"] for o in client.get("/api/v1/organisations", headers=login(ADMIN)).json()
    }
    _endpoint(client, login, webhook_receiver, organisations["Northwind Insurance"])
    internal = file_bug(client, eng, public=False)
    public_unlinked = file_bug(client, eng, public=True)
    ref = report(client, login(ALICE))["ref"]
    client.post(f"/api/v1/cases/{ref}/bugs", headers=eng, json={"bug": internal["key"]})
    for bug in (internal, public_unlinked):
        url = f"/api/v1/bugs/{bug['key']}/state"
        assert client.post(url, headers=eng, json={"state": "in_progress"}).status_code == 200
    runner.run()
    assert not [h for h in webhook_receiver.hooks if h.json()["event"] == "bug_state_changed"]


def test_an_endpoint_kind_must_be_known(client, login, webhook_receiver) -> None:
    response = client.post(
        "/api/v1/admin/webhooks",
        headers=login(ADMIN),
        json={"url": webhook_receiver.url, "kinds": ["bug_exploded"]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_kind"
