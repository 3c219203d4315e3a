"""Inbound e-mail: each message handed over by the MTA opens a case, continues one, or is
set aside — in one unit of work owned by the caller (the listener), so that a failure leaves
nothing behind and the MTA, told to retry, loses nothing.

Who may do what (the rules of machine mail, threading and inferred impact are in
``mail.rules``):

- machine mail (auto-replies, bounces, lists, our own mail) is recorded and dropped: no case,
  no answer, so no loop; so is mail whose sender the MTA found forged (DMARC failed);
- an unknown sender, an inactive account, or a named contact of an organisation whose
  package has no desk access or no e-mail channel gets one polite refusal per sender per day
  (naming the channels the package does have), and nothing else;
- a vendor staff address is recorded and dropped (staff work in the desk, not by e-mail);
- a message that names a case the sender may see lands on its timeline as the sender's
  comment, with its attachments, and answers the info request it replies to (the newest open
  one when its headers name none); a ``test`` request needs a ``Result: pass|fail`` line;
- anything else from an entitled contact opens a case with channel ``email``.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from critdesk.adapters.storage import Storage
from critdesk.aup import service as aup
from critdesk.auth.models import User
from critdesk.case import service as cases
from critdesk.case.models import Case, CaseEvent
from critdesk.config import Settings
from critdesk.errors import Forbidden, NotFound
from critdesk.mail import attachments, refusal, rules
from critdesk.mail.models import InboundMessage
from critdesk.mail.parse import ParsedMessage, parse
from critdesk.notification import rules as notification_rules
from critdesk.notification.models import Notification
from critdesk.request import service as requests
from critdesk.request.models import InfoRequest

log = logging.getLogger(__name__)

MAX_TEXT = 50_000
COMMENT = "comment"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the MTA handed over: the message's bytes and its envelope."""

    raw: bytes
    envelope_sender: str | None = None
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # case_opened, reply_added, ignored, refused, duplicate
    detail: str
    case_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Context:
    db: Session
    storage: Storage
    settings: Settings
    message: ParsedMessage
    now: datetime


def dedup_key(message: ParsedMessage, raw: bytes) -> str:
    if message.message_id:
        return f"id:{message.message_id[:240]}"
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def receive(
    *, db: Session, storage: Storage, settings: Settings, delivery: Delivery, now: datetime
) -> Outcome:
    """Handles one delivered message; a redelivered one is recognised and does nothing."""
    message = parse(delivery.raw)
    key = dedup_key(message, delivery.raw)
    if db.scalar(select(InboundMessage.id).where(InboundMessage.dedup_key == key)) is not None:
        return Outcome("duplicate", "this message was already received")
    record = InboundMessage(
        dedup_key=key,
        message_id=(message.message_id or "")[:500] or None,
        sender=(message.sender or "")[:254] or None,
        envelope_sender=(delivery.envelope_sender or "")[:254] or None,
        subject=message.subject[:300],
        size=len(delivery.raw),
        received_at=now,
        outcome="processing",
    )
    # Claimed first: a concurrent redelivery waits on this row's unique key, then fails (and
    # the MTA retries it, to find it received).
    db.add(record)
    db.flush()
    user, outcome = _handle(Context(db, storage, settings, message, now), delivery)
    record.outcome = outcome.status
    record.detail = outcome.detail[:2000]
    record.user_id = user.id if user is not None else None
    if outcome.case_ref is not None:
        record.case_id = cases.parse_ref(outcome.case_ref)
    db.flush()
    log.info("inbound mail from %s: %s (%s)", message.sender, outcome.status, outcome.detail)
    return outcome


def _handle(ctx: Context, delivery: Delivery) -> tuple[User | None, Outcome]:
    message = ctx.message
    machine = rules.auto_reason(
        message.headers,
        envelope_sender=delivery.envelope_sender,
        sender=message.sender,
        is_report=message.is_report,
        own_address=email.utils.parseaddr(ctx.settings.mail_from)[1] or None,
    )
    if machine is not None:
        return None, Outcome("ignored", f"machine mail: {machine}")
    if message.sender is None:
        return None, Outcome("ignored", "no sender address")
    forged = rules.forged_sender(message.headers)
    if forged is not None:
        # Not answered either: the address it claims is not the one who sent it.
        return None, Outcome("ignored", f"the sender address is forged ({forged})")
    user = ctx.db.scalar(select(User).where(func.lower(User.email) == message.sender))
    if user is None or not user.active:
        return user, _refuse(ctx, refusal.unknown_sender(message))
    if not user.is_customer or user.organisation is None:
        return user, Outcome("ignored", "a vendor staff address: staff work in the desk")
    try:
        cases.check_entitlement(user.organisation.package, "email")
    except Forbidden as refused:
        return user, _refuse(ctx, refusal.not_entitled(message, user, refused.message))
    for thread in rules.thread_of(message.subject, message.in_reply_to, message.references):
        case = _visible_case(ctx.db, user, thread.case_id)
        if case is not None:
            request_id = thread.request_id or _request_notified(ctx, case)
            return user, _reply(ctx, user, case, request_id)
    return user, _open_case(ctx, user)


def _refuse(ctx: Context, letter: refusal.Letter) -> Outcome:
    if rules.suppresses_replies(ctx.message.headers):
        return Outcome("refused", f"{letter.reason}; the sender asked for no automatic replies")
    sent = refusal.send_once(db=ctx.db, letter=letter, now=ctx.now)
    suffix = "a refusal is queued" if sent else "already refused today: no second refusal"
    return Outcome("refused", f"{letter.reason}; {suffix}")


def _visible_case(db: Session, user: User, case_id: int) -> Case | None:
    try:
        case = cases.load_case(db, case_id)
    except NotFound:
        return None
    return case if cases.can_see_organisation(user, case.organisation) else None


def _request_notified(ctx: Context, case: Case) -> int | None:
    """The info request whose notification e-mail this message replies to, if any: the
    notifications' Message-IDs are derived from their outbox keys (notification.rules)."""
    replied = [*ctx.message.in_reply_to, *reversed(ctx.message.references)]
    if not replied:
        return None
    sent = ctx.db.execute(
        select(Notification.key, CaseEvent.data)
        .join(CaseEvent, CaseEvent.id == Notification.event_id)
        .where(
            Notification.case_id == case.id,
            Notification.channel == "email",
            CaseEvent.kind == "info_requested",
        )
    ).all()
    ids = {
        notification_rules.message_id(key, ctx.settings.mail_domain, case.ref).strip("<>"): data
        for key, data in sent
    }
    for message_id in replied:
        request = (ids.get(message_id) or {}).get("request")
        if isinstance(request, dict) and isinstance(request.get("id"), int):
            return int(request["id"])
    return None


def _text(message: ParsedMessage, *, quoted: bool) -> str:
    text = message.text if quoted else rules.strip_quoted(message.text)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "\n\n[… the rest of the e-mail was cut: it was too long]"
    return text


def _request_to_answer(db: Session, case: Case, request_id: int | None) -> InfoRequest | None:
    """The open request the message replies to: the one its headers name, else the newest."""
    query = select(InfoRequest).where(InfoRequest.case_id == case.id, InfoRequest.state == "open")
    if request_id is not None:
        named = db.scalar(query.where(InfoRequest.id == request_id))
        if named is not None:
            return named
    return db.scalar(query.order_by(InfoRequest.created_at.desc(), InfoRequest.id.desc()))


def _reply(ctx: Context, user: User, case: Case, request_id: int | None) -> Outcome:
    message = ctx.message
    text = _text(message, quoted=False) or "(the e-mail had no text)"
    request = _request_to_answer(ctx.db, case, request_id)
    stored = attachments.store(
        db=ctx.db,
        storage=ctx.storage,
        settings=ctx.settings,
        sender=user,
        case=case,
        items=message.attachments,
        request_id=request.id if request is not None else None,
        now=ctx.now,
    )
    data: dict[str, object] = {"channel": "email", "attachment_ids": stored.ids}
    if stored.skipped:
        data["attachments_skipped"] = stored.skipped
    cases.record_event(
        db=ctx.db, case=case, actor=user, now=ctx.now, kind=COMMENT, message=text, data=data
    )
    detail = f"comment on {case.ref}"
    if request is not None:
        result = rules.test_result(text) if request.kind == "test" else None
        if request.kind == "test" and result is None:
            detail += f"; test request {request.id} left open: no 'Result: pass|fail' line"
        else:
            requests.answer_request(
                db=ctx.db,
                case=case,
                request=request,
                actor=user,
                message=text,
                attachment_ids=stored.ids,
                test_result=result,
                now=ctx.now,
            )
            detail += f"; answered info request {request.id}"
    ctx.db.flush()
    return Outcome("reply_added", detail, case.ref)


def _open_case(ctx: Context, user: User) -> Outcome:
    message = ctx.message
    assert user.organisation is not None
    text = _text(message, quoted=True)
    words = f"{message.subject}\n{text}"
    environments = [(e.id, e.name, e.production) for e in user.organisation.environments]
    chosen = rules.choose_environment(words, environments)
    if chosen is None:
        return _refuse(ctx, refusal.no_environment(message, user))
    inference = rules.infer_impact(words)
    new = cases.NewCase(
        title=rules.clean_title(message.subject),
        description=text or "(the e-mail had no text)",
        environment_id=chosen[0],
        impact=inference.impact,
        breadth=inference.breadth,
        end_users_blocked=inference.end_users_blocked,
        channel="email",
    )
    case = cases.report_case(
        db=ctx.db,
        reporter=user,
        new=new,
        now=ctx.now,
        rate_limits=aup.case_limits(ctx.settings),
    ).case
    # The provisional qualification says how it was reached from an e-mail.
    case.qualification_reasons = [*inference.reasons, chosen[1], *case.qualification_reasons]
    case.severity_reasons = [*case.severity_reasons, "inferred from the e-mail's words"]
    stored = attachments.store(
        db=ctx.db,
        storage=ctx.storage,
        settings=ctx.settings,
        sender=user,
        case=case,
        items=message.attachments,
        request_id=None,
        now=ctx.now,
    )
    ctx.db.flush()
    detail = f"opened {case.ref} with {len(stored.ids)} attachment(s)"
    if stored.skipped:
        detail += f"; skipped: {'; '.join(stored.skipped)}"
    return Outcome("case_opened", detail, case.ref)
