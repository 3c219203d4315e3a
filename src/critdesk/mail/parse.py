"""Reading an inbound message into plain values, whatever state the message is in.

The stdlib parser (``policy.default``) is lenient, but reading its results is not: a header
can fail to parse when it is asked for, a part's content can name a charset Python does not
know, base64 can be broken. Every read here falls back to something cruder (the raw header,
the decoded bytes as UTF-8 with replacements) and records what went wrong in ``defects``;
``parse`` never raises. Nothing here touches the database.
"""

from __future__ import annotations

import codecs
import email
import email.utils
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from typing import Any

from critdesk.mail import rules

MSG_ID = re.compile(r"<([^<>\s]{1,500})>")
MAX_ATTACHMENTS = 50
# Headers the rules read: was the message sent by a machine (rules.auto_reason), is its
# sender forged (rules.forged_sender).
AUTO_HEADERS = (
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "x-autoresponder",
    "x-auto-response-suppress",
    "list-id",
    "list-unsubscribe",
    "return-path",
    "x-loop",
    "x-critdesk-event",
    "x-critdesk-case",
    "x-critdesk-delivery",
    # The receiving MTA's verdict on the sender (SPF, DKIM, DMARC); the topmost is its own.
    "authentication-results",
)


@dataclass(frozen=True, slots=True)
class MailAttachment:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    sender: str | None
    sender_name: str
    subject: str
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    headers: dict[str, str]
    text: str
    attachments: tuple[MailAttachment, ...]
    is_report: bool = False
    defects: tuple[str, ...] = field(default_factory=tuple)


def parse(raw: bytes) -> ParsedMessage:
    defects: list[str] = []
    try:
        message: Message = email.message_from_bytes(raw, policy=policy.default)
    except Exception as error:  # the parser itself gave up: keep what can be said
        defects.append(f"unparseable message: {error!r}")
        message = EmailMessage()
    body_part = _body_part(message, defects)
    text = _text_of(body_part, defects) if body_part is not None else ""
    if body_part is not None and body_part.get_content_subtype() == "html":
        text = rules.html_to_text(text)
    sender_name, sender = _address(message, "from", defects)
    return ParsedMessage(
        sender=sender,
        sender_name=sender_name,
        subject=_header_text(message, "subject", defects),
        message_id=next(iter(_ids(message, "message-id")), None),
        in_reply_to=_ids(message, "in-reply-to"),
        references=_ids(message, "references"),
        headers={name: _header_text(message, name, defects) for name in _present(message)},
        text=text.replace("\r\n", "\n").strip(),
        attachments=tuple(_attachments(message, body_part, defects)),
        is_report=_content_type(message) == "multipart/report",
        defects=tuple(defects),
    )


def _raw_header(message: Message, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _present(message: Message) -> list[str]:
    names = {key.lower() for key, _value in message.raw_items()}
    return [name for name in AUTO_HEADERS if name in names]


def _header_text(message: Message, name: str, defects: list[str]) -> str:
    try:
        value = message.get(name)
        return " ".join(str(value).split()) if value is not None else ""
    except Exception as error:
        defects.append(f"{name}: {error!r}")
        raw = _raw_header(message, name) or ""
        return " ".join(raw.split())


def _address(message: Message, name: str, defects: list[str]) -> tuple[str, str | None]:
    try:
        header: Any = message.get(name)
        addresses = getattr(header, "addresses", ()) if header is not None else ()
        if addresses:
            found = addresses[0]
            spec = found.addr_spec.strip().lower()
            return found.display_name or "", spec if "@" in spec else None
    except Exception as error:
        defects.append(f"{name}: {error!r}")
    display, spec = email.utils.parseaddr(_raw_header(message, name) or "")
    spec = spec.strip().lower()
    return display, spec if "@" in spec and " " not in spec else None


def _ids(message: Message, name: str) -> tuple[str, ...]:
    raw = " ".join(str(value) for key, value in message.raw_items() if key.lower() == name)
    return tuple(MSG_ID.findall(raw))


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _body_part(message: Message, defects: list[str]) -> Message | None:
    try:
        if isinstance(message, EmailMessage):
            return message.get_body(preferencelist=("plain", "html"))
    except Exception as error:
        defects.append(f"body: {error!r}")
    # A message whose structure get_body cannot follow: the first text part will do.
    for part in _leaves(message):
        if _content_type(part) in ("text/plain", "text/html") and not _is_attachment(part):
            return part
    return None


def _decoded(part: Message, defects: list[str]) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception as error:
        defects.append(f"payload: {error!r}")
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""


def _text_of(part: Message, defects: list[str]) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except Exception as error:  # an unknown charset, a broken transfer encoding, …
        defects.append(f"text: {error!r}")
    data = _decoded(part, defects)
    charset = part.get_content_charset() or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        defects.append(f"unknown charset {charset!r}")
        charset = "utf-8"
    return data.decode(charset, errors="replace")


def _is_attachment(part: Message) -> bool:
    try:
        disposition = part.get_content_disposition()
        filename = part.get_filename()
    except Exception:
        return True
    return disposition == "attachment" or filename is not None


def _leaves(message: Message) -> list[Message]:
    """The message's non-multipart parts in order; an attached message is one leaf."""
    found: list[Message] = []
    pending = [message]
    while pending and len(found) < 10 * MAX_ATTACHMENTS:
        part = pending.pop(0)
        if _content_type(part) == "message/rfc822" and part is not message:
            found.append(part)
            continue
        if part.is_multipart():
            payload = part.get_payload()
            pending[:0] = (
                [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []
            )
            continue
        found.append(part)
    return found


def _attachment_bytes(part: Message, defects: list[str]) -> bytes:
    if _content_type(part) == "message/rfc822":
        inner = part.get_payload()
        first = inner[0] if isinstance(inner, list) and inner else None
        try:
            return first.as_bytes() if isinstance(first, Message) else b""
        except Exception as error:
            defects.append(f"attached message: {error!r}")
            return b""
    return _decoded(part, defects)


def _filename(part: Message, index: int) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name:
        return str(name)
    content_type = _content_type(part)
    extension = (
        ".eml" if content_type == "message/rfc822" else mimetypes.guess_extension(content_type)
    )
    return f"attachment-{index}{extension or '.bin'}"


def _attachments(
    message: Message, body: Message | None, defects: list[str]
) -> list[MailAttachment]:
    found: list[MailAttachment] = []
    for part in _leaves(message):
        if part is body:
            continue
        inline_text = _content_type(part).startswith("text/") and not _is_attachment(part)
        if inline_text:
            continue  # the other alternative of the body (HTML beside the plain text)
        if len(found) >= MAX_ATTACHMENTS:
            defects.append(f"more than {MAX_ATTACHMENTS} attachments: the rest were dropped")
            break
        found.append(
            MailAttachment(
                name=_filename(part, len(found) + 1),
                content_type=_content_type(part),
                data=_attachment_bytes(part, defects),
            )
        )
    return found
