"""A real SMTP conversation: the outbox is delivered to an aiosmtpd server on 127.0.0.1, and
what arrives is what people read — per role, threaded, never an internal note to a customer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from critdesk.adapters.smtp import SmtpMailer
from critdesk.notification import rules
from critdesk.notification.models import Notification
from tests.case.test_actions import ENG2, act
from tests.case.test_api import ALICE, BOB, ENG1, LEAD, report

DOMAIN = "critdesk.localhost"


@pytest.fixture
def mailer(smtp_sink):  # type: ignore[no-untyped-def]
    sender = SmtpMailer("127.0.0.1", smtp_sink.port, timeout=5)
    yield sender
    sender.close()


def about(sink, ref: str, address: str) -> list:  # type: ignore[no-untyped-def]
    return [m for m in sink.to(address) if f"[{ref}]" in str(m["Subject"])]


def test_a_reported_case_is_confirmed_by_a_threaded_multipart_email(
    client, login, runner, smtp_sink, database
) -> None:
    case = report(client, login(BOB))
    ref = case["ref"]
    runner.run()

    [confirmation] = about(smtp_sink, ref, BOB)
    assert str(confirmation["Subject"]) == f"[{ref}] Case received: Checkout fails for everyone"
    assert confirmation.get_content_type() == "multipart/alternative"
    text = confirmation.get_body(("plain",)).get_content()
    html = confirmation.get_body(("html",)).get_content()
    assert "Hello Bob" in text and f"/cases/{ref}" in text
    assert "<strong>" in html and f'href="http://127.0.0.1:8000/cases/{ref}"' in html
    root = f"<case-{ref}@{DOMAIN}>"
    assert confirmation["In-Reply-To"] == root and confirmation["References"] == root
    assert confirmation["Auto-Submitted"] == "auto-generated"
    assert confirmation["From"] == "critdesk <desk@critdesk.localhost>"
    with database.session() as db:
        row = db.scalars(
            select(Notification).where(
                Notification.recipient == BOB,
                Notification.channel == "email",
                Notification.kind == "reported",
                Notification.case_id == int(ref[4:]),
            )
        ).one()
        assert row.state == "sent" and row.attempts == 1
        # Deterministic: a resend after a crash carries the same Message-ID.
        assert confirmation["Message-ID"] == rules.message_id(row.key, DOMAIN, ref)
    # The desk's leads hear of every new case; Alice, Northwind's admin, is not told of Bob's.
    assert len(about(smtp_sink, ref, LEAD)) == 1
    assert about(smtp_sink, ref, ALICE) == []


def test_each_role_gets_its_own_events_and_never_its_own_actions(
    client, login, runner, smtp_sink
) -> None:
    ref = report(client, login(BOB))["ref"]
    act(client, login(LEAD), ref, "assign", {"engineer": ENG1})
    runner.run()
    assigned = [m for m in smtp_sink.messages() if "Assigned to" in str(m["Subject"])]
    assert sorted(a for m in assigned for a in [str(m["To"])] if ref in str(m["Subject"])) == [
        BOB,
        ENG1,
    ]
    assert "the engineer on" in about(smtp_sink, ref, ENG1)[-1].get_body(("plain",)).get_content()

    act(client, login(ENG1), ref, "start_investigation")
    runner.run()
    started = [m for m in about(smtp_sink, ref, BOB) if "Investigation started" in m["Subject"]]
    assert len(started) == 1
    # Eng1 acted: eng1 is not told; nor is the lead, who is not a party to this event.
    assert not any("Investigation started" in m["Subject"] for m in about(smtp_sink, ref, ENG1))
    assert not any("Investigation started" in m["Subject"] for m in about(smtp_sink, ref, LEAD))


def test_internal_notes_are_never_mailed_to_customers(client, login, runner, smtp_sink) -> None:
    ref = report(client, login(BOB))["ref"]
    act(client, login(LEAD), ref, "assign", {"engineer": ENG1})
    eng2 = login(ENG2)
    secret = "Customer's gateway config looks hand-edited; ask about it carefully."
    response = client.post(
        f"/api/v1/cases/{ref}/comments", headers=eng2, json={"body": secret, "internal": True}
    )
    assert response.status_code == 201
    client.post(
        f"/api/v1/cases/{ref}/comments",
        headers=login(ENG1),
        json={"body": "Could you send the gateway logs?", "internal": False},
    )
    runner.run()

    def bodies(address: str) -> str:
        return "\n".join(
            m.get_body(("plain",)).get_content() for m in about(smtp_sink, ref, address)
        )

    assert secret in bodies(ENG1)  # the owner reads the note
    for customer in (BOB, ALICE):
        assert secret not in bodies(customer)
    assert "gateway logs" in bodies(BOB)
    comments_to_bob = [m for m in about(smtp_sink, ref, BOB) if "New comment" in m["Subject"]]
    assert len(comments_to_bob) == 1


def test_a_server_refusing_a_recipient_for_good_makes_the_row_dead(
    client, login, runner, smtp_sink, database
) -> None:
    async def refuse(server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address == BOB:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_sink.handle_RCPT = refuse
    ref = report(client, login(BOB))["ref"]
    runner.run()
    assert about(smtp_sink, ref, BOB) == []
    with database.session() as db:
        row = db.scalars(
            select(Notification).where(
                Notification.recipient == BOB,
                Notification.channel == "email",
                Notification.case_id == int(ref[4:]),
            )
        ).one()
    assert row.state == "dead" and "550" in (row.last_error or "")
    assert len(about(smtp_sink, ref, LEAD)) == 1
