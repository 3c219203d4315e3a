"""One contact's personal data on request: export it, or erase it.

**Export** (``export_contact``) gathers, as plain JSON-ready values: the user record, API
tokens and web sessions (metadata, never secrets), the cases they reported, their comments and
other timeline entries, their answers to info requests, their attachments' metadata, phone
calls they made, their notifications, e-mails received from them, failed logins under their
address, and the audit events where they are the actor.

**Erase** (``erase_contact``) keeps the organisation's cases and removes the person from them:

- the user row is anonymised (``rules.anonymous``: name, e-mail, phone, time zone), made
  inactive with no password; their API tokens are revoked and their web sessions deleted;
- their name, e-mail address and phone number are scrubbed (``rules.scrubber``) from every
  text of the cases of their organisation — titles, descriptions, outcomes, root causes,
  timeline entries, info requests and answers, screen-sharing notes, log analyses' quoted
  lines — and from every timeline entry they wrote anywhere; the caller of a phone call they
  made becomes the anonymous name;
- the files they uploaded are removed (``retention.remove_attachment``, reason ``erasure``,
  on the timeline and audited, their log analyses' summaries dropped); their bytes are
  deleted by the purge that follows the commit;
- their notifications and notification preferences, the failed logins and refusal records
  under their address are deleted; e-mails received from them keep only the anonymous sender.

Audit events are not changed: the trail is append-only and hash-chained (audit/), so events
they acted in stay, pointing at the anonymised user. Both actions are audited themselves,
without personal data (counts only). Nothing here commits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from critdesk.attachment.models import Attachment
from critdesk.audit import service as audit
from critdesk.audit.models import AuditEvent
from critdesk.auth.models import ApiToken, LoginFailure, User, WebSession
from critdesk.auth.service import normalise_email
from critdesk.case.models import Case, CaseEvent, format_ref
from critdesk.errors import Conflict, NotFound
from critdesk.logs.models import LogAnalysis
from critdesk.mail.models import InboundMessage, MailRefusal
from critdesk.notification.models import Notification, NotificationPreference
from critdesk.phone.service import PHONE_CALL
from critdesk.privacy import retention, rules
from critdesk.request.models import InfoRequest
from critdesk.screenshare.models import ScreenShare

FORMAT = "critdesk.personal-data/1"


def find_contact(*, db: Session, email: str) -> User:
    address = normalise_email(email)  # stored normalised: the unique index finds it
    user = db.scalar(select(User).where(User.email == address)) if address else None
    if user is None:
        raise NotFound("contact")
    return user


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- export ------------------------------------------------------------------------------------


def _user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "organisation": user.organisation.name if user.organisation else None,
        "phone": user.phone,
        "time_zone": user.time_zone,
        "active": user.active,
        "created_at": _iso(user.created_at),
    }


def _credentials(db: Session, user: User) -> dict[str, list[dict[str, Any]]]:
    tokens = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    sessions = db.scalars(
        select(WebSession).where(WebSession.user_id == user.id).order_by(WebSession.id)
    )
    return {
        "api_tokens": [
            {
                "name": t.name,
                "created_at": _iso(t.created_at),
                "expires_at": _iso(t.expires_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in tokens
        ],
        "web_sessions": [
            {"created_at": _iso(s.created_at), "expires_at": _iso(s.expires_at)} for s in sessions
        ],
    }


def _cases_reported(db: Session, user: User) -> list[dict[str, Any]]:
    cases = db.scalars(select(Case).where(Case.reporter_id == user.id).order_by(Case.id))
    return [
        {
            "ref": c.ref,
            "title": c.title,
            "description": c.description,
            "channel": c.channel,
            "state": c.state,
            "severity": c.severity,
            "reported_at": _iso(c.reported_at),
            "closed_at": _iso(c.closed_at),
        }
        for c in cases
    ]


def _events_by(db: Session, user: User) -> list[CaseEvent]:
    return list(
        db.scalars(select(CaseEvent).where(CaseEvent.actor_id == user.id).order_by(CaseEvent.id))
    )


def _event_view(event: CaseEvent) -> dict[str, Any]:
    return {
        "case": format_ref(event.case_id),
        "at": _iso(event.at),
        "kind": event.kind,
        "internal": event.internal,
        "message": event.message,
        "data": event.data,
    }


def _answers(db: Session, user: User) -> list[dict[str, Any]]:
    requests = db.scalars(
        select(InfoRequest).where(InfoRequest.answered_by_id == user.id).order_by(InfoRequest.id)
    )
    return [
        {
            "case": format_ref(r.case_id),
            "request_id": r.id,
            "kind": r.kind,
            "question": r.message,
            "answered_at": _iso(r.answered_at),
            "answer": r.answer,
            "test_result": r.test_result,
        }
        for r in requests
    ]


def _attachments(db: Session, user: User) -> list[dict[str, Any]]:
    found = db.scalars(
        select(Attachment).where(Attachment.uploaded_by_id == user.id).order_by(Attachment.id)
    )
    return [
        {
            "case": format_ref(a.case_id),
            "id": a.id,
            "name": a.name,
            "size": a.size,
            "sha256": a.sha256,
            "media_type": a.media_type,
            "kind": a.kind,
            "internal": a.internal,
            "created_at": _iso(a.created_at),
            "removed_at": _iso(a.deleted_at),
            "removed_because": a.deleted_reason,
        }
        for a in found
    ]


def _phone_calls(db: Session, user: User) -> list[CaseEvent]:
    """Calls recorded for this caller: ``phone_call`` events of their organisation's cases
    whose caller is their address (the caller is stored in the event's data)."""
    if user.organisation_id is None:
        return []
    events = db.scalars(
        select(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.kind == PHONE_CALL, Case.organisation_id == user.organisation_id)
        .order_by(CaseEvent.id)
    )
    address = user.email.lower()
    return [e for e in events if str(e.data.get("caller", {}).get("email", "")).lower() == address]


def _to_contact(user: User) -> Any:
    """The contact's notifications: addressed to the user, or sent to their address."""
    return or_(
        Notification.user_id == user.id,
        func.lower(Notification.recipient) == user.email.lower(),
    )


def _notifications(db: Session, user: User) -> list[Notification]:
    return list(db.scalars(select(Notification).where(_to_contact(user)).order_by(Notification.id)))


def _notification_view(row: Notification) -> dict[str, Any]:
    payload = row.payload or {}
    return {
        "kind": row.kind,
        "channel": row.channel,
        "case": format_ref(row.case_id) if row.case_id else None,
        "recipient": row.recipient,
        "subject": payload.get("subject"),
        "state": row.state,
        "created_at": _iso(row.created_at),
        "sent_at": _iso(row.sent_at),
        "read_at": _iso(row.read_at),
    }


def _messages(db: Session, user: User) -> list[InboundMessage]:
    address = user.email.lower()
    return list(
        db.scalars(
            select(InboundMessage)
            .where(
                or_(
                    InboundMessage.user_id == user.id,
                    func.lower(InboundMessage.sender) == address,
                    func.lower(InboundMessage.envelope_sender) == address,
                )
            )
            .order_by(InboundMessage.id)
        )
    )


def _mail_and_logins(db: Session, user: User) -> dict[str, list[dict[str, Any]]]:
    address = user.email.lower()
    failures = db.scalars(
        select(LoginFailure)
        .where(func.lower(LoginFailure.email) == address)
        .order_by(LoginFailure.id)
    )
    return {
        "inbound_emails": [
            {
                "subject": m.subject,
                "sender": m.sender,
                "received_at": _iso(m.received_at),
                "outcome": m.outcome,
                "case": format_ref(m.case_id) if m.case_id else None,
            }
            for m in _messages(db, user)
        ],
        "failed_logins": [{"at": _iso(f.at), "remote_addr": f.remote_addr} for f in failures],
    }


def _audit_events(db: Session, user: User) -> list[dict[str, Any]]:
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.id)
    )
    return [
        {
            "at": _iso(e.at),
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "data": e.data,
        }
        for e in events
    ]


def export_contact(*, db: Session, email: str, now: datetime) -> dict[str, Any]:
    """Everything the desk holds about one person, as JSON-ready values; audited."""
    user = find_contact(db=db, email=email)
    events = _events_by(db, user)
    exported: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": _iso(now),
        "user": _user_view(user),
        **_credentials(db, user),
        "cases_reported": _cases_reported(db, user),
        "comments": [_event_view(e) for e in events if e.kind == "comment"],
        "other_timeline_entries": [_event_view(e) for e in events if e.kind != "comment"],
        "answers": _answers(db, user),
        "attachments": _attachments(db, user),
        "phone_calls": [_event_view(e) for e in _phone_calls(db, user)],
        "notifications": [_notification_view(n) for n in _notifications(db, user)],
        **_mail_and_logins(db, user),
        "audit_events": _audit_events(db, user),
    }
    counts = {k: len(v) for k, v in exported.items() if isinstance(v, list)}
    audit.record(
        db=db,
        at=now,
        actor_id=None,
        action="privacy.exported",
        object_type="user",
        object_id=user.id,
        organisation_id=user.organisation_id,
        data={"sections": counts},
    )
    return exported


def describe_contact(*, db: Session, email: str) -> dict[str, Any]:
    """What an erasure would touch, counted, without changing anything (the CLI's preview)."""
    user = find_contact(db=db, email=email)
    live_files = db.scalar(
        select(func.count())
        .select_from(Attachment)
        .where(Attachment.uploaded_by_id == user.id, Attachment.deleted_at.is_(None))
    )
    return {
        "user_id": user.id,
        "role": user.role,
        "organisation": user.organisation.name if user.organisation else None,
        "cases_reported": len(_cases_reported(db, user)),
        "timeline_entries": len(_events_by(db, user)),
        "answers": len(_answers(db, user)),
        "files": int(live_files or 0),
        "phone_calls": len(_phone_calls(db, user)),
        "notifications": int(
            db.scalar(select(func.count()).select_from(Notification).where(_to_contact(user))) or 0
        ),
    }


# --- erase ---------------------------------------------------------------------------------------


def _scrub_row(
    row: Any, fields: Iterable[str], scrub: rules.Scrubber, counts: Counter[str]
) -> None:
    for name in fields:
        value = getattr(row, name)
        if value is None:
            continue
        scrubbed, replaced = scrub.value(value)
        if replaced:
            setattr(row, name, scrubbed)
            counts["replacements"] += replaced


def _scrub_texts(db: Session, user: User, scrub: rules.Scrubber, counts: Counter[str]) -> None:
    anonymous = rules.anonymous(user.id)
    case_ids = select(Case.id).where(Case.organisation_id == user.organisation_id)
    cases = list(db.scalars(select(Case).where(Case.id.in_(case_ids))))
    for case in cases:
        _scrub_row(
            case,
            ("title", "description", "redirect_message", "outcomes", "root_cause"),
            scrub,
            counts,
        )
    counts["cases"] = len(cases)
    events = db.scalars(
        select(CaseEvent).where(or_(CaseEvent.case_id.in_(case_ids), CaseEvent.actor_id == user.id))
    )
    for event in events:
        caller = event.data.get("caller") if event.kind == PHONE_CALL else None
        if isinstance(caller, dict) and str(caller.get("email", "")).lower() == user.email.lower():
            event.data = {
                **event.data,
                "caller": {"email": anonymous.email, "name": anonymous.name},
            }
            counts["phone_calls"] += 1
        _scrub_row(event, ("message", "data"), scrub, counts)
    requests = db.scalars(
        select(InfoRequest).where(
            or_(
                InfoRequest.case_id.in_(case_ids),
                InfoRequest.created_by_id == user.id,
                InfoRequest.answered_by_id == user.id,
            )
        )
    )
    for request in requests:
        _scrub_row(request, ("message", "details", "answer"), scrub, counts)
    shares = db.scalars(select(ScreenShare).where(ScreenShare.case_id.in_(case_ids)))
    for share in shares:
        _scrub_row(share, ("notes",), scrub, counts)
    # Log analyses quote their logs' lines.
    analyses = db.scalars(select(LogAnalysis).where(LogAnalysis.case_id.in_(case_ids)))
    for analysis in analyses:
        _scrub_row(analysis, ("summary",), scrub, counts)
    db.flush()


def _remove_files(
    db: Session, user: User, scrub: rules.Scrubber, now: datetime, counts: Counter[str]
) -> None:
    files = db.scalars(select(Attachment).where(Attachment.uploaded_by_id == user.id))
    for attachment in files:
        _scrub_row(attachment, ("name",), scrub, counts)
    db.flush()
    ids = db.scalars(
        select(Attachment.id).where(
            Attachment.uploaded_by_id == user.id, Attachment.deleted_at.is_(None)
        )
    ).all()
    for attachment_id in ids:
        counts["files"] += retention.remove_attachment(
            db=db, attachment_id=attachment_id, reason=rules.ERASURE, now=now
        )


def _forget_contact(
    db: Session, user: User, scrub: rules.Scrubber, now: datetime, counts: Counter[str]
) -> None:
    address = user.email.lower()
    removed = db.execute(
        delete(Notification).where(_to_contact(user)).execution_options(synchronize_session=False)
    )
    counts["notifications"] = removed.rowcount  # type: ignore[attr-defined]
    db.execute(delete(NotificationPreference).where(NotificationPreference.user_id == user.id))
    db.execute(delete(LoginFailure).where(func.lower(LoginFailure.email) == address))
    db.execute(delete(MailRefusal).where(func.lower(MailRefusal.sender) == address))
    anonymous = rules.anonymous(user.id)
    for message in _messages(db, user):
        message.sender = message.envelope_sender = anonymous.email
        message.subject, _ = scrub(message.subject)
        message.message_id = None
        counts["inbound_emails"] += 1
    counts["tokens_revoked"] = db.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    counts["sessions_ended"] = db.execute(
        delete(WebSession).where(WebSession.user_id == user.id)
    ).rowcount  # type: ignore[attr-defined]


def _anonymise(user: User) -> None:
    anonymous = rules.anonymous(user.id)
    user.email = anonymous.email
    user.name = anonymous.name
    user.phone = None
    user.time_zone = None
    user.active = False
    user.password_hash = None


def erase_contact(*, db: Session, email: str, now: datetime, region: str = "GB") -> dict[str, int]:
    """Erases one person's personal data (see the module's docstring); returns what was done,
    counted. The caller commits, then purges the removed files (``retention.purge_removed``)."""
    user = find_contact(db=db, email=email)
    if rules.is_erased(user.email):
        raise Conflict("already_erased", "this contact's personal data is already erased")
    if user.role == "admin" and _last_admin(db, user):
        raise Conflict("last_admin", "the desk's last active admin cannot be erased")
    organisation = user.organisation.name if user.organisation else None
    scrub = rules.scrubber(
        name=user.name, email=user.email, phone=user.phone, organisation=organisation, region=region
    )
    counts: Counter[str] = Counter()
    _remove_files(db, user, scrub, now, counts)
    _scrub_texts(db, user, scrub, counts)
    _forget_contact(db, user, scrub, now, counts)
    _anonymise(user)
    db.flush()
    summary = {key: int(value) for key, value in sorted(counts.items())}
    audit.record(
        db=db,
        at=now,
        actor_id=None,
        action="privacy.erased",
        object_type="user",
        object_id=user.id,
        organisation_id=user.organisation_id,
        data=summary,
    )
    return summary


def _last_admin(db: Session, user: User) -> bool:
    others = db.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == "admin", User.active.is_(True), User.id != user.id)
    )
    return not others
