"""The pure rules of inbound e-mail: machine mail, threading, inferred impact, text."""

from __future__ import annotations

import pytest

from critdesk.mail import rules


@pytest.mark.parametrize(
    ("headers", "envelope", "sender", "report", "expected"),
    [
        ({}, "carol@contoso.example", "carol@contoso.example", False, None),
        ({"auto-submitted": "no"}, "c@x.example", "c@x.example", False, None),
        ({"auto-submitted": "auto-replied"}, "c@x.example", "c@x.example", False, "Auto-Submitted"),
        ({"auto-submitted": "auto-generated; owner"}, None, "c@x.example", False, "Auto-Sub"),
        ({"precedence": "bulk"}, None, "c@x.example", False, "Precedence: bulk"),
        ({"precedence": "auto_reply"}, None, "c@x.example", False, "Precedence: auto_reply"),
        ({"precedence": "first-class"}, None, "c@x.example", False, None),
        ({"x-autoreply": "yes"}, None, "c@x.example", False, "x-autoreply"),
        ({"list-id": "<ops.example>"}, None, "c@x.example", False, "mailing list"),
        ({}, "", "c@x.example", False, "bounce"),
        ({"return-path": "<>"}, None, "c@x.example", False, "bounce"),
        ({}, None, "mailer-daemon@mx.example", False, "mailer-daemon"),
        ({}, None, "c@x.example", True, "delivery report"),
        ({"x-critdesk-event": "comment"}, None, "c@x.example", False, "critdesk"),
    ],
)
def test_it_recognises_machine_mail(headers, envelope, sender, report, expected) -> None:
    reason = rules.auto_reason(headers, envelope_sender=envelope, sender=sender, is_report=report)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason


def test_mail_from_the_desks_own_address_is_machine_mail() -> None:
    reason = rules.auto_reason(
        {}, envelope_sender="x@y", sender="desk@critdesk.localhost", is_report=False,
        own_address="Desk@critdesk.localhost",
    )  # fmt: skip
    assert reason == "sent from the desk's own address"


def test_a_dmarc_failure_stamped_by_the_mta_marks_a_forged_sender() -> None:
    failed = "mx.desk.example; spf=pass smtp.mailfrom=x.example; dmarc=fail header.from=y"
    assert rules.forged_sender({"authentication-results": failed}) == "dmarc=fail"
    passed = "mx.desk.example; dkim=pass; dmarc=pass header.from=contoso.example"
    assert rules.forged_sender({"authentication-results": passed}) is None
    assert rules.forged_sender({}) is None


def test_exchange_suppression_asks_for_no_automatic_reply() -> None:
    assert rules.suppresses_replies({"x-auto-response-suppress": "OOF, AutoReply"})
    assert not rules.suppresses_replies({"x-auto-response-suppress": "DR"})
    assert not rules.suppresses_replies({})


def test_threading_reads_reply_headers_before_the_subject() -> None:
    threads = rules.thread_of(
        "Re: [PCH-000007] Checkout",
        ["case-PCH-000005@critdesk.localhost"],
        ["PCH-000003.abc123@critdesk.localhost", "case-PCH-000004@critdesk.localhost"],
    )
    assert [(t.case_id, t.source) for t in threads] == [
        (5, "in-reply-to"),
        (4, "references"),
        (3, "references"),
        (7, "subject"),
    ]


def test_an_id_naming_a_request_says_which_request_is_answered() -> None:
    [thread] = rules.thread_of("", ["case-PCH-000012.request-34@desk.example"], [])
    assert (thread.case_id, thread.request_id) == (12, 34)
    [plain] = rules.thread_of("", ["PCH-000012.9f8e7d@desk.example"], [])
    assert plain.request_id is None


def test_a_subject_without_a_ref_threads_nothing() -> None:
    assert rules.thread_of("Our app PCH is down", [], ["<random@x>"]) == []


@pytest.mark.parametrize(
    ("text", "severity_words", "blocked", "breadth"),
    [
        ("The portal is down for everyone since 09:00", {"app_unavailable"}, True, "all_users"),
        ("Outage: checkout unavailable", {"app_unavailable"}, True, "all_users"),
        ("Users cannot log in", set(), True, "end_users"),
        ("Users can’t save claims, only on the iPad app", set(), True, "particular_circumstance"),
        ("Search is slow since the upgrade", {"degraded"}, False, "end_users"),
        ("We found a security vulnerability (CVE-2026-1234)", {"security_vulnerability"}, False,
         "end_users"),
        ("Orders were corrupted overnight", {"data_loss"}, False, "end_users"),
        ("How do I add a field to an Entity?", set(), False, "end_users"),
        ("Pick a value from the drop-down", set(), False, "end_users"),
    ],
)  # fmt: skip
def test_impact_is_inferred_from_the_words(text, severity_words, blocked, breadth) -> None:
    inference = rules.infer_impact(text)
    flags = {
        name
        for name in ("app_unavailable", "security_vulnerability", "data_loss", "degraded")
        if getattr(inference.impact, name)
    }
    assert flags == severity_words
    assert inference.end_users_blocked is blocked
    assert inference.breadth == breadth
    assert inference.reasons[0].startswith("reported by e-mail")


def test_the_reasons_name_the_words_that_decided() -> None:
    reasons = rules.infer_impact("Everything is down, nobody can check out").reasons
    assert any("“down”" in r and r.startswith("end users blocked") for r in reasons)
    assert any(r.startswith("all users affected") and "“nobody can”" in r for r in reasons)


ENVIRONMENTS = [(1, "nw-prod", True), (2, "nw-uat", False)]


@pytest.mark.parametrize(
    ("text", "environments", "expected"),
    [
        ("Checkout down [env: nw-uat]", ENVIRONMENTS, 2),
        ("Checkout down [Environment: NW-UAT]", ENVIRONMENTS, 2),
        ("nw-uat fails to export", ENVIRONMENTS, 2),
        ("Checkout down", ENVIRONMENTS, 1),
        ("[env: unknown] down", ENVIRONMENTS, 1),
        ("down", [(1, "a", True), (2, "b", True)], 1),
        ("down", [(3, "test", False)], 3),
        ("down", [], None),
    ],
)
def test_the_environment_is_named_or_the_only_production_one(text, environments, expected) -> None:
    chosen = rules.choose_environment(text, environments)
    assert (chosen[0] if chosen else None) == expected


def test_quoted_text_of_a_reply_is_dropped() -> None:
    text = (
        "Here are the logs you asked for.\n\nOn Wed, 25 Nov 2026 at 10:00, critdesk wrote:\n"
        "> Please send the logs\n> Thanks"
    )
    assert rules.strip_quoted(text) == "Here are the logs you asked for."
    assert rules.strip_quoted("> only a quote") == "> only a quote"
    assert rules.strip_quoted("Done.\n-----Original Message-----\nFrom: x") == "Done."


def test_a_test_answer_needs_a_result_line() -> None:
    assert rules.test_result("I ran it.\nResult: PASS\n") == "pass"
    assert rules.test_result("Test result: failed, see log") == "fail"
    assert rules.test_result("it passed I think") is None


def test_html_becomes_readable_text() -> None:
    html = (
        "<html><head><style>p{color:red}</style></head><body><p>Checkout is <b>down</b>"
        "&nbsp;&amp; broken</p><ul><li>one</li><li>two</li></ul><script>x()</script></body></html>"
    )
    assert rules.html_to_text(html) == "Checkout is down & broken\n\n- one\n- two"


@pytest.mark.parametrize(
    ("subject", "title"),
    [
        ("Re: Fwd: Checkout down", "Checkout down"),
        ("  AW:   Checkout\n down ", "Checkout down"),
        ("", "E-mail report (no subject)"),
        ("X", "E-mail report: X"),
        ("a" * 300, "a" * 199 + "…"),
    ],
)
def test_a_subject_becomes_a_title(subject, title) -> None:
    assert rules.clean_title(subject) == title
