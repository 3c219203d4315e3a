"""Export and erasure of one contact's personal data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, or_, select

from critdesk.attachment.models import Attachment
from critdesk.auth.models import ApiToken, LoginFailure, User, WebSession
from critdesk.case.models import Case, CaseEvent
from critdesk.errors import Conflict, NotFound
from critdesk.mail.models import InboundMessage
from critdesk.notification.models import Notification
from critdesk.privacy import retention, service
from critdesk.request.models import InfoRequest
from tests.case.test_actions import act
from tests.case.test_api import ALICE, BOB, ENG1, report
from tests.privacy.conftest import audit_actions, upload_ok

BOB_NAME = "Bob Northwind"
BOB_PHONE_DIGITS = "1614960102"
LOG = b"2026-11-25 09:12:03,114 ERROR [exec-4] c.v.runtime.Checkout - HTTP 500\n"


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


@pytest.fixture
def bob_history(client, login, clock) -> dict[str, Any]:
    """Bob reports, comments, answers, uploads and phones; Alice and the engineer mention him."""
    bob, alice, eng = login(BOB), login(ALICE), login(ENG1)
    case = report(
        client,
        bob,
        title="Claims portal down — Bob Northwind",
        description="Reach me at bob@northwind.example or +44 161 496 0102.",
    )
    ref = case["ref"]
    ok(act(client, eng, ref, "start_investigation"))
    base = f"/api/v1/cases/{ref}"
    ok(client.post(f"{base}/comments", headers=bob, json={"body": "Bob here: logs follow."}), 201)
    ok(
        client.post(
            f"{base}/comments", headers=alice, json={"body": "Bob Northwind owns this outage."}
        ),
        201,
    )
    question = ok(
        client.post(
            f"{base}/requests",
            headers=eng,
            json={"kind": "question", "message": "Bob, when did it start?"},
        ),
        201,
    )
    attachment = upload_ok(client, bob, ref, content=LOG, name="bob-northwind-runtime.log")
    ok(
        client.post(
            f"{base}/requests/{question['id']}/answer",
            headers=bob,
            json={"message": "At 09:12 — Bob (0161 496 0102)", "attachment_ids": []},
        )
    )
    alice_file = upload_ok(client, alice, ref, content=b"alice's notes\n", name="alice.txt")
    ok(
        client.post(
            "/api/v1/calls",
            headers=eng,
            json={"caller": BOB, "notes": "Bob rang: still down at 10:30.", "case_ref": ref},
        )
    )
    client.post("/api/v1/auth/token", json={"email": BOB, "password": "wrong-password-000"})
    return {"ref": ref, "attachment": attachment, "alice_file": alice_file}


def test_the_export_holds_everything_about_the_contact(database, clock, bob_history) -> None:
    ref = bob_history["ref"]
    with database.session() as db:
        exported = service.export_contact(db=db, email="  BOB@northwind.example ", now=clock.now)
    json.dumps(exported)  # JSON-ready as it is
    assert exported["user"]["email"] == BOB and exported["user"]["name"] == BOB_NAME
    assert exported["user"]["phone"] == "+44 161 496 0102"
    assert exported["user"]["organisation"] == "Northwind Insurance"
    # (The demo data holds cases of Bob's too.)
    assert ref in [c["ref"] for c in exported["cases_reported"]]
    assert "Bob here: logs follow." in [c["message"] for c in exported["comments"]]
    assert "At 09:12 — Bob (0161 496 0102)" in [a["answer"] for a in exported["answers"]]
    assert "bob-northwind-runtime.log" in [a["name"] for a in exported["attachments"]]
    assert "Bob rang: still down at 10:30." in [c["message"] for c in exported["phone_calls"]]
    assert all(c["case"].startswith("PCH-") for c in exported["comments"])
    assert exported["notifications"], "the reporter is notified of the engineer's actions"
    assert len(exported["failed_logins"]) == 1
    assert [t["name"] for t in exported["api_tokens"]] == ["test"]
    assert "case.reported" in {e["action"] for e in exported["audit_events"]}
    assert {e["kind"] for e in exported["other_timeline_entries"]} >= {
        "reported",
        "attachment_added",
    }
    [recorded] = audit_actions(database, "privacy.exported")
    assert recorded.actor_id is None and recorded.object_type == "user"
    assert "bob" not in json.dumps(recorded.data).lower()


def test_an_unknown_address_is_not_found(database, clock, demo) -> None:
    with database.session() as db, pytest.raises(NotFound):
        service.export_contact(db=db, email="nobody@northwind.example", now=clock.now)


def erase(database: Any, clock: Any, app: Any, email: str = BOB) -> dict[str, int]:
    with database.session() as db:
        summary = service.erase_contact(db=db, email=email, now=clock.now)
    with database.session() as db:
        retention.purge_removed(db=db, storage=app.state.storage, now=clock.now)
    return summary


def rows_about_bob(database: Any, bob_id: int) -> str:
    """Every row of Bob's organisation's cases and of Bob himself, as one lowercase text."""
    with database.session(read_only=True) as db:
        org = db.scalar(select(User.organisation_id).where(User.id == bob_id))
        case_ids = select(Case.id).where(Case.organisation_id == org)
        rows: list[Any] = [
            *db.execute(select(User.email, User.name, User.phone).where(User.id == bob_id)),
            *db.execute(
                select(Case.title, Case.description, Case.outcomes).where(Case.id.in_(case_ids))
            ),
            *db.execute(
                select(CaseEvent.message, CaseEvent.data).where(
                    or_(CaseEvent.case_id.in_(case_ids), CaseEvent.actor_id == bob_id)
                )
            ),
            *db.execute(
                select(InfoRequest.message, InfoRequest.answer).where(
                    InfoRequest.case_id.in_(case_ids)
                )
            ),
            *db.execute(select(Attachment.name).where(Attachment.uploaded_by_id == bob_id)),
            *db.execute(
                select(Notification.recipient, Notification.payload).where(
                    Notification.user_id == bob_id
                )
            ),
            *db.execute(select(InboundMessage.sender, InboundMessage.subject)),
            *db.execute(select(LoginFailure.email)),
        ]
    return json.dumps([list(r) for r in rows], default=str).lower()


def test_erasure_leaves_no_trace_of_the_person_in_their_rows(
    client, login, database, clock, app, bob_history
) -> None:
    with database.session(read_only=True) as db:
        bob_id = db.scalar(select(User.id).where(User.email == BOB))
        cases_before = db.scalar(select(func.count()).select_from(Case))
    before = rows_about_bob(database, bob_id)
    assert "bob" in before and BOB_PHONE_DIGITS in before.replace(" ", "")

    summary = erase(database, clock, app)
    assert summary["files"] == 1 and summary["phone_calls"] == 1 and summary["tokens_revoked"] == 1

    after = rows_about_bob(database, bob_id)
    assert "bob" not in after
    assert "northwind.example" not in after.replace("alice@northwind.example", "")
    assert "496 0102" not in after and BOB_PHONE_DIGITS not in after.replace(" ", "")
    with database.session(read_only=True) as db:
        user = db.get(User, bob_id)
        assert user is not None
        assert (user.email, user.name, user.phone, user.active, user.password_hash) == (
            f"erased-{bob_id}@erased.invalid",
            f"Erased contact {bob_id}",
            None,
            False,
            None,
        )
        assert db.scalar(select(func.count()).select_from(Case)) == cases_before
        assert db.scalar(select(Case.reporter_id).where(Case.id == int(bob_history["ref"][4:])))
        assert not db.scalars(select(WebSession).where(WebSession.user_id == bob_id)).all()
        tokens = db.scalars(select(ApiToken).where(ApiToken.user_id == bob_id)).all()
        assert tokens and all(t.revoked_at == clock.now for t in tokens)


def test_erasure_ends_access_and_removes_only_their_files(
    client, login, database, clock, app, settings, bob_history
) -> None:
    bob = login(BOB)
    ref, mine, alices = bob_history["ref"], bob_history["attachment"], bob_history["alice_file"]
    erase(database, clock, app)
    assert client.get("/api/v1/me", headers=bob).status_code == 401
    token = client.post("/api/v1/auth/token", json={"email": BOB, "password": "demo-password-123"})
    assert token.status_code == 401
    alice = login(ALICE)
    gone = client.get(f"/api/v1/cases/{ref}/attachments/{mine['id']}", headers=alice)
    assert gone.status_code == 410 and gone.json()["error"]["details"]["reason"] == "erasure"
    kept = client.get(f"/api/v1/cases/{ref}/attachments/{alices['id']}", headers=alice)
    assert kept.status_code == 200 and kept.content == b"alice's notes\n"
    with database.session(read_only=True) as db:
        key = db.scalar(select(Attachment.storage_key).where(Attachment.id == mine["id"]))
    assert not (settings.data_dir / "attachments" / str(key)).exists()
    timeline = client.get(f"/api/v1/cases/{ref}", headers=alice).json()["timeline"]
    removed = [e for e in timeline if e["kind"] == "attachment_removed"]
    assert [e["data"]["reason"] for e in removed] == ["erasure"]


def test_erasure_is_audited_and_the_audit_trail_is_kept(database, clock, app, bob_history) -> None:
    with database.session(read_only=True) as db:
        bob_id = db.scalar(select(User.id).where(User.email == BOB))
    acted_before = [e.id for e in audit_actions(database, "case.reported") if e.actor_id == bob_id]
    erase(database, clock, app)
    [erased] = audit_actions(database, "privacy.erased")
    assert erased.object_id == str(bob_id) and erased.data["files"] == 1
    assert "bob" not in json.dumps(erased.data).lower()
    assert [e.id for e in audit_actions(database, "attachment.removed")]
    acted_after = [e.id for e in audit_actions(database, "case.reported") if e.actor_id == bob_id]
    assert acted_after == acted_before  # append-only: kept, pointing at the anonymised user


def test_erasing_twice_or_the_last_admin_is_refused(database, clock, app, bob_history) -> None:
    erase(database, clock, app)
    with database.session() as db:
        bob_id = db.scalar(select(User.id).where(User.name.like("Erased contact %")))
    with database.session() as db, pytest.raises(Conflict, match="already erased"):
        service.erase_contact(db=db, email=f"erased-{bob_id}@erased.invalid", now=clock.now)
    with database.session() as db, pytest.raises(NotFound):
        service.erase_contact(db=db, email=BOB, now=clock.now)
    with database.session() as db, pytest.raises(Conflict, match="last active admin"):
        service.erase_contact(db=db, email="admin@vendor.example", now=clock.now)
