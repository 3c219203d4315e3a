"""E-mails as their recipients read them: multipart plain text + HTML, threaded per case.

Built with the classic (compat32) MIME classes rather than ``EmailMessage``: the modern
policy parses every header it is given, which cost more than the SMTP conversation itself
(delivery must reach hundreds of messages a second), with two short cuts of the same output:
headers that fit on a line as they are skip compat32's folding machinery (``_QuickFold``), and
each multipart message gets its random boundary up front instead of having the generator
search its text for a free one (a regular expression compiled per message)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import jinja2

from critdesk.notification import rules

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "notification"
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html"]),
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
    # The templates ship with the code: no file-system check of them for every e-mail.
    auto_reload=False,
)


class _QuickFold(Compat32):
    """compat32, except that a header whose value is printable ASCII and fits on one line is
    written as it is: what compat32's ``Header`` folding makes of it too (tested), at a tenth of
    the cost. Anything else (long, non-ASCII, a ``Header``) goes the long way."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        limit = self.max_line_length
        if (
            isinstance(value, str)
            and value.isascii()
            and value.isprintable()
            and not (limit and len(name) + 2 + len(value) > limit)
        ):
            return f"{name}: {value}{self.linesep}"
        folded: str = super()._fold(name, value, sanitize)  # type: ignore[misc]  # compat32's own
        return folded


POLICY = _QuickFold()


@functools.cache
def _template(name: str) -> jinja2.Template:
    return _env.get_template(name)


@dataclass(frozen=True, slots=True)
class Sender:
    mail_from: str
    domain: str
    base_url: str


@dataclass(frozen=True, slots=True)
class CaseView:
    """What an e-mail says about the case and the event (read when it is sent)."""

    ref: str
    title: str
    severity: str
    state: str
    organisation: str
    reporter_id: int
    owner_id: int | None
    due_at: datetime
    kind: str
    message: str | None
    data: dict[str, Any]


def case_email(
    *,
    sender: Sender,
    key: str,
    to: str,
    person: tuple[int, str, str],
    case: CaseView,
    created_at: datetime,
) -> Message:
    """The e-mail of one case event for one person (id, name, role)."""
    head = rules.headline(case.kind, case.title, case.data)
    context: dict[str, Any] = {
        "name": person[1],
        "headline": head,
        "message": case.message,
        "details": _details(case, staff=person[2] not in ("customer", "customer_admin")),
        "ref": case.ref,
        "link": f"{sender.base_url.rstrip('/')}/cases/{case.ref}",
        "to": to,
        "why": _why(person, case),
        "subject": rules.subject(case.ref, head),
    }
    message = _message(
        sender,
        key=key,
        to=to,
        subject=context["subject"],
        ref=case.ref,
        created_at=created_at,
        text=_template("email.txt").render(context),
        html=_template("email.html").render(context),
    )
    message["X-Critdesk-Event"] = case.kind
    return message


def ready_email(
    *, sender: Sender, key: str, to: str, payload: dict[str, Any], created_at: datetime
) -> Message:
    """An e-mail queued whole (queue_email): its own subject, bodies and extra headers."""
    headers = dict(payload.get("headers") or {})
    message = _message(
        sender,
        key=key,
        to=to,
        subject=str(payload.get("subject", "")),
        ref=None,
        created_at=created_at,
        message_id=headers.pop("Message-ID", None),
        text=str(payload.get("text", "")),
        html=str(payload["html"]) if payload.get("html") else None,
    )
    for name, value in headers.items():
        if name in message:
            del message[name]
        message[name] = _header(str(value))
    return message


def _message(
    sender: Sender,
    *,
    key: str,
    to: str,
    subject: str,
    ref: str | None,
    created_at: datetime,
    text: str,
    html: str | None,
    message_id: str | None = None,
) -> Message:
    body = _part(text, "plain")
    message: Message = body
    if html is not None:
        # Random, so it appears in no text: the generator need not search them for one.
        message = MIMEMultipart("alternative", boundary=f"=_{uuid.uuid4().hex}", policy=POLICY)
        message.attach(body)
        message.attach(_part(html, "html"))
    message["From"] = _header(sender.mail_from)
    message["To"] = to
    message["Subject"] = _header(subject)
    message["Date"] = format_datetime(created_at)
    message["Message-ID"] = message_id or rules.message_id(key, sender.domain, ref)
    if ref is not None:
        root = rules.thread_root(ref, sender.domain)
        message["In-Reply-To"] = root
        message["References"] = root
        message["X-Critdesk-Case"] = ref
    # Out-of-office replies and other robots must not answer (RFC 3834; Exchange's header).
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    return message


def _part(content: str, subtype: str) -> MIMEText:
    """7bit when the text is ASCII; quoted-printable UTF-8 otherwise (readable, unlike
    base64, and kind to spam filters)."""
    if content.isascii():
        return MIMEText(content, subtype, "us-ascii", policy=POLICY)
    return MIMEText(content, subtype, _UTF8, policy=POLICY)  # type: ignore[arg-type]  # a Charset is accepted


_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP


def _header(value: str) -> str:
    """Plain ASCII as it is; otherwise the ASCII words first as they are (so ``[PCH-000123]``
    stays readable in the raw subject) and the rest as an RFC 2047 encoded word."""
    if value.isascii():
        return value
    first = next(i for i, c in enumerate(value) if not c.isascii())
    cut = value.rfind(" ", 0, first) + 1
    header = Header(value[:cut] or None, "us-ascii") if cut else Header()
    header.append(value[cut:], "utf-8")
    return header.encode()


def _details(case: CaseView, *, staff: bool) -> list[tuple[str, str]]:
    details = [
        ("Case", f"{case.ref}: {case.title}"),
        ("Severity", case.severity),
        ("State", case.state.replace("_", " ")),
    ]
    if staff:
        details.append(("Organisation", case.organisation))
    if case.kind in ("reported", "sla_warning", "sla_breach"):
        details.append(("Investigation due", case.due_at.strftime("%Y-%m-%d %H:%M UTC")))
    if case.kind in ("bug_fixed", "bug_released"):
        details.append(("Fix version", str(case.data.get("fix_version"))))
    return details


def _why(person: tuple[int, str, str], case: CaseView) -> str:
    user_id, _, role = person
    if user_id == case.reporter_id:
        return f"the reporter of {case.ref}"
    if user_id == case.owner_id:
        return f"the engineer on {case.ref}"
    return {
        "customer_admin": f"an administrator of {case.organisation}",
        "lead": "a lead of the desk",
        "account_manager": f"the account manager of {case.organisation}",
    }.get(role, "a party to the case")
