"""The notification pages: the inbox with mark-read, preferences, and the admin's deliveries."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from critdesk.notification.jobs import fan_out_pending
from critdesk.notification.models import Notification, NotificationPreference
from tests.case.test_api import ALICE, BOB, ENG1, report

ADMIN = "admin@vendor.example"


def sign_in(client, email: str) -> str:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    form = {"email": email, "password": "demo-password-123"}
    if csrf:
        form["csrf_token"] = csrf.group(1)
    response = client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client, "/notifications")


def csrf_of(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def test_the_inbox_lists_unread_notifications_and_marks_them_read(client, login, database) -> None:
    ref = report(client, login(BOB))["ref"]
    client.post(f"/api/v1/cases/{ref}/actions/assign", headers=login(ENG1), json={"engineer": ENG1})
    fan_out_pending(database)
    token = sign_in(client, BOB)
    page = client.get("/notifications")
    assert ref in page.text and "unread" in page.text
    unread_ids = re.findall(r'data-id="(\d+)"', page.text)
    assert unread_ids

    one = client.post(
        f"/notifications/{unread_ids[0]}/read", data={"csrf_token": token}, follow_redirects=False
    )
    assert one.status_code == 303
    with database.session() as db:
        row = db.get(Notification, int(unread_ids[0]))
        assert row is not None and row.read_at is not None

    client.post("/notifications/read-all", data={"csrf_token": token})
    assert "0 unread" in client.get("/notifications").text
    assert "No unread notifications." in client.get("/notifications?unread=true").text


def test_marking_read_needs_the_csrf_token_and_only_touches_ones_own(
    client, login, database
) -> None:
    report(client, login(BOB))
    fan_out_pending(database)
    with database.session() as db:
        lead_row = db.scalars(
            select(Notification).where(
                Notification.channel == "in_app", Notification.recipient != BOB
            )
        ).first()
    assert lead_row is not None
    token = sign_in(client, BOB)
    refused = client.post("/notifications/read-all", data={}, follow_redirects=False)
    assert refused.status_code == 403
    client.post(f"/notifications/{lead_row.id}/read", data={"csrf_token": token})
    with database.session() as db:
        assert db.get(Notification, lead_row.id).read_at is None  # type: ignore[union-attr]


def test_preferences_are_saved_from_the_form(client, login, database) -> None:
    token = sign_in(client, ALICE)
    page = client.get("/notifications/preferences")
    boxes = re.findall(r'name="([a-z_]+:(?:email|in_app))"[^>]*checked', page.text)
    assert "resolved:email" in boxes
    kept = {box: "on" for box in boxes if box != "resolved:email"}
    saved = client.post("/notifications/preferences", data=kept | {"csrf_token": token})
    assert saved.status_code == 200 and "Preferences saved." in saved.text
    with database.session() as db:
        off = db.scalars(
            select(NotificationPreference).where(NotificationPreference.enabled.is_(False))
        ).all()
    assert [(p.kind, p.channel) for p in off] == [("resolved", "email")]
    assert 'name="resolved:email" value="on" aria-label' in client.get(
        "/notifications/preferences"
    ).text.replace(" checked", "")


def test_admins_see_dead_deliveries_and_retry_them(client, login, database, clock) -> None:
    report(client, login(BOB))
    fan_out_pending(database)
    with database.session() as db:
        db.execute(
            update(Notification)
            .where(Notification.channel == "email")
            .values(state="dead", attempts=8, last_error="550 mailbox unavailable")
        )
    token = sign_in(client, ADMIN)
    page = client.get("/admin/notifications")
    assert "550 mailbox unavailable" in page.text and "Retry now" in page.text
    dead_id = re.findall(r'<tr data-id="(\d+)"', page.text)[0]
    client.post(f"/admin/notifications/{dead_id}/retry", data={"csrf_token": token})
    with database.session() as db:
        assert db.get(Notification, int(dead_id)).state == "pending"  # type: ignore[union-attr]
    assert client.get("/admin/notifications?state=bogus").status_code == 422


def test_only_admins_see_deliveries(client, demo) -> None:
    sign_in(client, ENG1)
    assert client.get("/admin/notifications").status_code == 403
