"""The polite refusal: at most one per sender per day, queued through the outbox.

It carries ``Auto-Submitted: auto-replied`` (RFC 3834) and ``X-Auto-Response-Suppress`` so
that a well-behaved robot does not answer it, and the one-a-day guard (a unique row per
sender and UTC day, plus the outbox key) stops any loop with a robot that is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from critdesk.auth.models import User
from critdesk.case.service import CHANNEL_NAMES
from critdesk.mail.models import MailRefusal
from critdesk.mail.parse import ParsedMessage
from critdesk.notification import service as notifications

SIGNATURE = (
    "This is an automatic reply from the critical-issue desk; you will receive at most one a day."
)


@dataclass(frozen=True, slots=True)
class Letter:
    to: str
    subject: str
    text: str
    in_reply_to: str | None
    reason: str


def _subject(message: ParsedMessage) -> str:
    original = message.subject.strip() or "your message"
    return f"Re: {original}"[:250]


def _letter(message: ParsedMessage, reason: str, paragraphs: list[str]) -> Letter:
    assert message.sender is not None
    greeting = f"Hello {message.sender_name}," if message.sender_name else "Hello,"
    quoted = f"“{message.subject.strip()}”" if message.subject.strip() else "without a subject"
    body = [greeting, f"Thank you for your message {quoted}.", *paragraphs, SIGNATURE]
    return Letter(
        to=message.sender,
        subject=_subject(message),
        text="\n\n".join(body) + "\n",
        in_reply_to=message.message_id,
        reason=reason,
    )


def unknown_sender(message: ParsedMessage) -> Letter:
    return _letter(
        message,
        "the sender is not a named contact",
        [
            "This address takes reports of production-critical issues only from the named "
            "contacts of organisations whose support package includes the critical-issue "
            f"desk. {message.sender} is not one of them, so no case was opened.",
            "If you are a named contact, please write from the address your organisation "
            "registered with us, or ask your organisation's administrator to add you. "
            "For questions and issues that are not critical, please use the Support Helpdesk "
            "or the Community Forum.",
        ],
    )


def not_entitled(message: ParsedMessage, user: User, refusal: str) -> Letter:
    """``refusal`` is check_entitlement's message, which names the channels the package has."""
    assert user.organisation is not None
    package = user.organisation.package
    channels = [CHANNEL_NAMES.get(c, c) for c in package.channels]
    lines = [
        f"No case was opened: {refusal[0].upper()}{refusal[1:]}.",
        f"{user.organisation.name}'s {package.name} package includes: {', '.join(channels)}.",
    ]
    if "phone" in package.channels and package.phone_number and package.desk_access:
        lines.append(f"For production-down issues, call {package.phone_number}.")
    lines.append("Your Account Manager can tell you about the packages that include it.")
    return _letter(message, f"not entitled: {refusal}", lines)


def no_environment(message: ParsedMessage, user: User) -> Letter:
    assert user.organisation is not None
    return _letter(
        message,
        "the organisation has no environment to report against",
        [
            f"No case was opened: {user.organisation.name} has no environment registered with "
            "the desk yet. Please ask your Account Manager to add your environments, or "
            "report the issue on the web portal.",
        ],
    )


def send_once(*, db: Session, letter: Letter, now: datetime) -> bool:
    """Queues the letter unless this sender was already refused today; True when queued."""
    day = now.date()
    taken = select(MailRefusal.id).where(MailRefusal.sender == letter.to, MailRefusal.day == day)
    if db.scalar(taken) is not None:
        return False
    try:
        with db.begin_nested():
            db.add(MailRefusal(sender=letter.to, day=day, sent_at=now))
            db.flush()
    except IntegrityError:
        return False  # a concurrent message from the same sender was refused first
    headers = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    if letter.in_reply_to:
        headers |= {
            "In-Reply-To": f"<{letter.in_reply_to}>",
            "References": f"<{letter.in_reply_to}>",
        }
    notifications.queue_email(
        db=db,
        to=letter.to,
        subject=letter.subject,
        text=letter.text,
        headers=headers,
        key=f"mail-refusal:{day.isoformat()}:{letter.to}"[:200],
        now=now,
    )
    return True
