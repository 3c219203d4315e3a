"""Reading inbound messages in any state: odd charsets, broken encodings, malformed MIME."""

from __future__ import annotations

import base64
from email.message import EmailMessage

from critdesk.mail.parse import parse


def test_a_plain_message_gives_its_sender_subject_ids_and_text() -> None:
    raw = (
        b"From: Carol Contoso <Carol@Contoso.example>\r\n"
        b"To: desk@critdesk.localhost\r\n"
        b"Subject: =?utf-8?q?Patient_lookup_=E2=80=94_down?=\r\n"
        b"Message-ID: <abc@contoso.example>\r\n"
        b"In-Reply-To: <case-PCH-000003@critdesk.localhost>\r\n"
        b"References: <x@y> <case-PCH-000003@critdesk.localhost>\r\n"
        b"Auto-Submitted: no\r\n"
        b"\r\n"
        b"Ward tablets cannot search.\r\n"
    )
    message = parse(raw)
    assert message.sender == "carol@contoso.example"
    assert message.sender_name == "Carol Contoso"
    assert message.subject == "Patient lookup — down"
    assert message.message_id == "abc@contoso.example"
    assert message.in_reply_to == ("case-PCH-000003@critdesk.localhost",)
    assert message.references == ("x@y", "case-PCH-000003@critdesk.localhost")
    assert message.headers == {"auto-submitted": "no"}
    assert message.text == "Ward tablets cannot search."
    assert message.attachments == ()


def test_iso_2022_jp_is_decoded() -> None:
    body = "本番環境がダウンしています".encode("iso-2022-jp")
    raw = (
        b"From: a@b.example\r\nSubject: =?ISO-2022-JP?B?"
        + base64.b64encode("障害".encode("iso-2022-jp"))
        + b"?=\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n"
        b"Content-Transfer-Encoding: 7bit\r\n\r\n" + body + b"\r\n"
    )
    message = parse(raw)
    assert message.subject == "障害"
    assert message.text == "本番環境がダウンしています"


def test_an_unknown_charset_falls_back_to_utf8_with_replacements() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\n"
        b"caf\xc3\xa9 \xff down\r\n"
    )
    message = parse(raw)
    assert message.text == "café \ufffd down"
    assert any("x-klingon" in defect for defect in message.defects)


def test_broken_base64_and_a_missing_boundary_do_not_crash() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\r\n\r\n'
        b"--XYZ\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"SGVsbG8gd29ybGQ=!!!not base64***\r\n"
        b"--XYZ\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="log.txt"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nU0VWRVJFIGVycm9y\r\n"
        # no closing boundary
    )
    message = parse(raw)
    assert message.text.startswith("Hello world")
    assert [(a.name, a.data) for a in message.attachments] == [("log.txt", b"SEVERE error")]


def test_garbage_is_read_without_raising() -> None:
    for raw in (b"", b"\x00\xff\xfe", b"From: <<<>>>\r\nSubject\r\n\r\n", b"Content-Type: ;;;\r\n"):
        message = parse(raw)
        assert message.sender is None


def test_an_html_only_body_becomes_text_and_its_alternative_is_not_an_attachment() -> None:
    message = EmailMessage()
    message["From"] = "dan@fabrikam.example"
    message["Subject"] = "Sync down"
    message.set_content("Orders are not syncing.")
    message.add_alternative("<p>Orders are <b>not</b> syncing.</p>", subtype="html")
    message.add_attachment(b"\x89PNG....", maintype="image", subtype="png", filename="shot.png")
    parsed = parse(message.as_bytes())
    assert parsed.text == "Orders are not syncing."
    assert [(a.name, a.content_type) for a in parsed.attachments] == [("shot.png", "image/png")]

    html_only = EmailMessage()
    html_only["From"] = "dan@fabrikam.example"
    html_only.set_content("<div>Line one<br>Line two</div>", subtype="html")
    assert parse(html_only.as_bytes()).text == "Line one\nLine two"


def test_a_forwarded_message_is_kept_as_an_eml_attachment() -> None:
    inner = EmailMessage()
    inner["From"] = "monitor@fabrikam.example"
    inner["Subject"] = "ALERT"
    inner.set_content("Gateway timeouts")
    outer = EmailMessage()
    outer["From"] = "dan@fabrikam.example"
    outer.set_content("See the alert below.")
    outer.add_attachment(inner)
    parsed = parse(outer.as_bytes())
    assert parsed.text == "See the alert below."
    [attached] = parsed.attachments
    assert attached.name.endswith(".eml") and b"Gateway timeouts" in attached.data


def test_a_delivery_report_is_flagged() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nsorry\r\n--b--\r\n"
    )
    assert parse(raw).is_report
