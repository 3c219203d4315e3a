"""Inbound e-mail end to end: smtplib talks to the real listener, on every database."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select

from critdesk.case.models import CaseEvent
from critdesk.mail import service as mail_service
from critdesk.notification import rules as notification_rules
from critdesk.notification.jobs import fan_out_pending
from critdesk.notification.models import Notification
from tests.case.test_actions import act
from tests.case.test_api import ALICE, BOB, CAROL, ENG1, ERIN, report
from tests.mail.conftest import DESK, MAX_BYTES, inbound, mail, refusals

LOG = b"2026-11-25 09:12:03 ERROR Checkout - HTTP 500\n"


def cases_of(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    return client.get("/api/v1/cases", headers=headers).json()["items"]


def detail(client: Any, headers: dict[str, str], ref: str) -> dict[str, Any]:
    return client.get(f"/api/v1/cases/{ref}", headers=headers).json()


def test_a_named_contact_opens_a_case_by_email(smtp, client, login, database) -> None:
    before = {c["ref"] for c in cases_of(client, login(CAROL))}
    reply = smtp.send(
        mail(
            "Carol Contoso <carol@contoso.example>",
            "Patient portal is down for everyone",
            "Since 09:00 nobody can log in to the patient portal.\n\nCarol",
            attachments=[("server.log", LOG, "text/plain")],
        )
    )
    assert reply.code == 250, reply.text
    [new] = [c for c in cases_of(client, login(CAROL)) if c["ref"] not in before]
    case = detail(client, login(CAROL), new["ref"])
    assert case["channel"] == "email"
    assert case["title"] == "Patient portal is down for everyone"
    assert case["description"].startswith("Since 09:00 nobody can log in")
    assert case["environment"]["name"] == "ch-prod"
    assert case["severity"] == "S1"
    assert case["qualification"]["status"] == "critical"
    reasons = case["qualification"]["reasons"]
    assert reasons[0].startswith("reported by e-mail")
    assert any("“down”" in r for r in reasons)
    assert any("only production environment: ch-prod" in r for r in reasons)
    assert [e["kind"] for e in case["timeline"]] == ["reported", "attachment_added"]
    [attached] = client.get(f"/api/v1/cases/{new['ref']}/attachments", headers=login(CAROL)).json()[
        "items"
    ]
    assert attached["name"] == "server.log" and attached["kind"] == "log"
    got = client.get(
        f"/api/v1/cases/{new['ref']}/attachments/{attached['id']}", headers=login(CAROL)
    )
    assert got.content == LOG
    assert inbound(database)[-1][1] == "case_opened"


def test_the_environment_can_be_named_and_words_without_an_outage_are_not_critical(
    smtp, client, login
) -> None:
    smtp.send(mail("alice@northwind.example", "Question about exports [env: nw-uat]", "How?"))
    [case] = [c for c in cases_of(client, login(ALICE)) if c["title"].startswith("Question")]
    full = detail(client, login(ALICE), case["ref"])
    assert full["environment"]["name"] == "nw-uat"
    assert full["qualification"]["status"] == "not_critical"


def test_a_reply_by_subject_ref_lands_on_the_case_timeline(smtp, client, login) -> None:
    ref = report(client, login(ALICE))["ref"]
    reply = smtp.send(
        mail(
            "bob@northwind.example",
            f"Re: [{ref}] Checkout fails for everyone",
            "It started right after the deploy.\n\nOn Wed, critdesk wrote:\n> earlier text",
        )
    )
    assert reply.code == 250
    last = detail(client, login(ALICE), ref)["timeline"][-1]
    assert last["kind"] == "comment"
    assert last["message"] == "It started right after the deploy."
    assert last["actor"]["email"] == BOB
    assert last["data"]["channel"] == "email"
    comments = client.get(f"/api/v1/cases/{ref}/comments", headers=login(ENG1)).json()["items"]
    assert [c["body"] for c in comments] == ["It started right after the deploy."]
    # A contact of another organisation naming the case opens a case of their own instead.
    smtp.send(mail(CAROL, f"Re: [{ref}] down", "Our portal is down too."))
    assert detail(client, login(ALICE), ref)["timeline"][-1]["kind"] == "comment"
    assert any(c["title"] == f"[{ref}] down" for c in cases_of(client, login(CAROL)))


def test_a_reply_by_in_reply_to_answers_the_open_request_with_its_attachment(
    smtp, client, login, database
) -> None:
    ref = report(client, login(ALICE))["ref"]
    eng = login(ENG1)
    act(client, eng, ref, "start_investigation")
    asked = client.post(
        f"/api/v1/cases/{ref}/requests",
        headers=eng,
        json={"kind": "logs", "message": "Please send the logs.", "details": {"logs": ["app"]}},
    ).json()
    assert detail(client, eng, ref)["state"] == "awaiting_customer"
    reply = smtp.send(
        mail(
            "alice@northwind.example",
            "Re: your request",
            "Logs attached.",
            headers={"In-Reply-To": f"<case-{ref}@critdesk.localhost>"},
            attachments=[("app.log", LOG, "application/octet-stream")],
        )
    )
    assert reply.code == 250
    request = client.get(f"/api/v1/cases/{ref}/requests/{asked['id']}", headers=eng).json()
    assert request["state"] == "answered"
    assert request["answer"] == "Logs attached."
    case = detail(client, eng, ref)
    assert case["state"] == "investigating"
    kinds = [e["kind"] for e in case["timeline"]]
    assert kinds[-3:] == ["attachment_added", "comment", "info_request_answered"]
    [attached] = client.get(f"/api/v1/cases/{ref}/attachments", headers=eng).json()["items"]
    assert attached["request_id"] == asked["id"] and attached["name"] == "app.log"
    assert request["attachment_ids"] == [attached["id"]]
    assert "answered info request" in inbound(database)[-1][2]


def test_a_reply_to_an_info_request_notification_answers_that_request(
    smtp, client, login, database, settings
) -> None:
    ref = report(client, login(ALICE))["ref"]
    eng = login(ENG1)
    act(client, eng, ref, "start_investigation")
    ask = {"kind": "question", "message": "Which browser?"}
    first = client.post(f"/api/v1/cases/{ref}/requests", headers=eng, json=ask).json()
    client.post(f"/api/v1/cases/{ref}/requests", headers=eng, json=ask | {"message": "When?"})
    fan_out_pending(database)
    with database.session(read_only=True) as db:
        sent = db.execute(
            select(Notification.key, CaseEvent.data)
            .join(CaseEvent, CaseEvent.id == Notification.event_id)
            .where(Notification.channel == "email", Notification.recipient == ALICE)
            .where(CaseEvent.kind == "info_requested")
        ).all()
    [key] = [k for k, data in sent if data["request"]["id"] == first["id"]]
    message_id = notification_rules.message_id(key, settings.mail_domain, ref)
    # Not the newest request: only the notification's Message-ID says which one is answered.
    smtp.send(mail(ALICE, "Re: question", "Firefox 140.", headers={"In-Reply-To": message_id}))
    answered = client.get(f"/api/v1/cases/{ref}/requests/{first['id']}", headers=eng).json()
    assert answered["state"] == "answered" and answered["answer"] == "Firefox 140."


def test_an_unknown_sender_gets_one_polite_refusal_a_day(smtp, database, clock) -> None:
    first = smtp.send(mail("stranger@elsewhere.example", "Help!", "Our site is down"))
    second = smtp.send(mail("Stranger@Elsewhere.example", "Help again", "Still down"))
    assert first.code == second.code == 250
    [letter] = refusals(database)
    assert letter["to"] == "stranger@elsewhere.example"
    assert letter["subject"] == "Re: Help!"
    assert "no case was opened" in letter["text"]
    assert letter["headers"]["Auto-Submitted"] == "auto-replied"
    outcomes = [row[1:] for row in inbound(database)]
    assert outcomes[0][0] == outcomes[1][0] == "refused"
    assert "already refused today" in outcomes[1][1]
    clock.advance(days=1)
    smtp.send(mail("stranger@elsewhere.example", "Help, day two", "down"))
    assert len(refusals(database)) == 2


def test_a_contact_of_an_organisation_without_desk_access_is_told_its_channels(
    smtp, database, client, login
) -> None:
    smtp.send(mail("Erin Tailspin <erin@tailspin.example>", "Booking site down", "Help"))
    [letter] = refusals(database)
    assert letter["to"] == ERIN
    assert "Essential package does not include the critical-issue desk" in letter["text"]
    assert "Support Helpdesk on the web portal and API" in letter["text"]
    assert (
        "Tailspin Travel's Essential package includes: the web portal and API." in (letter["text"])
    )
    assert cases_of(client, login(ERIN)) == []


MACHINE_HEADERS = [
    {"Auto-Submitted": "auto-replied"},
    {"Precedence": "bulk"},
    {"X-Autoreply": "yes"},
    {"Return-Path": "<>"},
]


def test_auto_replies_bounces_and_forgeries_never_open_cases_nor_get_answers(
    smtp, database, client, login
) -> None:
    before = len(cases_of(client, login(CAROL)))
    for headers in MACHINE_HEADERS:
        assert (
            smtp.send(mail(CAROL, "Out of office: re: down", "away", headers=headers)).code == 250
        )
        smtp.send(mail("nobody@unknown.example", "Automatic reply", "away", headers=headers))
    bounce = mail("MAILER-DAEMON@mx.elsewhere.example", "Undelivered Mail Returned to Sender")
    assert smtp.send(bounce, envelope_from="").code == 250
    assert smtp.send(mail("x@y.example", "Re: hi", "down"), envelope_from="").code == 250
    forged = {"Authentication-Results": "mx.critdesk.localhost; spf=fail; dmarc=fail"}
    assert smtp.send(mail(CAROL, "Portal down", "down", headers=forged)).code == 250
    assert len(cases_of(client, login(CAROL))) == before
    assert refusals(database) == []
    assert {row[1] for row in inbound(database)} == {"ignored"}
    assert len(inbound(database)) == 2 * len(MACHINE_HEADERS) + 3


def test_a_redelivered_message_does_nothing_twice(smtp, client, login, database) -> None:
    message = mail(CAROL, "Portal down", "down", headers={"Message-ID": "<once@contoso.example>"})
    assert smtp.send(message).code == 250
    assert smtp.send(message).code == 250
    assert sum(c["title"] == "Portal down" for c in cases_of(client, login(CAROL))) == 1
    assert len(inbound(database)) == 1


def test_malformed_mime_and_odd_charsets_are_handled(smtp, client, login) -> None:
    japanese = (
        b"From: carol@contoso.example\r\nTo: "
        + DESK.encode()
        + b"\r\nSubject: =?ISO-2022-JP?B?"
        + base64.b64encode("障害: down".encode("iso-2022-jp"))
        + b'?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n"
        + "本番環境がダウンしています".encode("iso-2022-jp")
        + b"\r\n--B\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="shot.png"\r\n\r\n'
        b"iVBORw0KGgo=====!!broken\r\n"
        # the closing boundary is missing
    )
    assert smtp.send(japanese, envelope_from=CAROL).code == 250
    [case] = [c for c in cases_of(client, login(CAROL)) if c["title"].startswith("障害")]
    full = detail(client, login(CAROL), case["ref"])
    assert full["description"] == "本番環境がダウンしています"
    unknown = (
        b"From: carol@contoso.example\r\nSubject: unknown charset\r\n"
        b"Content-Type: text/plain; charset=x-unknown-8\r\n\r\nthe portal is \xff\xfe down\r\n"
    )
    assert smtp.send(unknown, envelope_from=CAROL).code == 250
    titles = [c["title"] for c in cases_of(client, login(CAROL))]
    assert "unknown charset" in titles


def test_a_message_over_the_size_limit_is_refused_with_552(smtp, database) -> None:
    big = mail(CAROL, "Huge", "x", attachments=[("big.bin", b"\0" * MAX_BYTES, "application/zip")])
    reply = smtp.send(big)
    assert reply.code == 552
    assert inbound(database) == []


def test_a_processing_error_answers_451_and_keeps_nothing(smtp, database, monkeypatch) -> None:
    def fail(**_kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(mail_service.attachments, "store", fail)
    reply = smtp.send(
        mail(CAROL, "Portal down", "down", attachments=[("a.log", LOG, "text/plain")])
    )
    assert reply.code == 451
    assert inbound(database) == []
    monkeypatch.undo()
    assert smtp.send(mail(CAROL, "Portal down", "down")).code == 250


def test_over_a_rate_limit_the_mta_is_asked_to_retry_and_lmtp_works_alike(
    listen, client, login
) -> None:
    lmtp = listen(lmtp=True, rate_limit_cases_per_minute=1)
    assert lmtp.send(mail(CAROL, "First outage", "down"), lmtp=True).code == 250
    reply = lmtp.send(mail(CAROL, "Second outage", "down"), lmtp=True)
    assert reply.code == 451 and "4.7.1" in reply.text
    assert [c["title"] for c in cases_of(client, login(CAROL))].count("First outage") == 1
    assert [c["title"] for c in cases_of(client, login(CAROL))].count("Second outage") == 0
