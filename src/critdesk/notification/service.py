"""Notification use cases: the fan-out hook of every case event, queueing a ready e-mail,
the in-app inbox and preferences, and the admin's view of failed deliveries and endpoints.

Nothing here commits; outbox rows are written in the caller's transaction.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from critdesk.audit import service as audit
from critdesk.auth.models import User
from critdesk.bug.models import Bug, BugCase
from critdesk.case.models import Case, CaseEvent, format_ref
from critdesk.errors import Conflict, Forbidden, Invalid, NotFound
from critdesk.notification import outbox, rules
from critdesk.notification.models import (
    STATES,
    Notification,
    NotificationPreference,
    WebhookEndpoint,
)
from critdesk.organisation.models import Organisation


def pending_for(case: Case, kind: str) -> dict[str, Any] | None:
    """Called by case.service._event for every timeline event, in its transaction: the mark
    that puts the event's notifications in the outbox (``outbox.pending``)."""
    return outbox.pending(case, kind)


def queue_email(
    *,
    db: Session,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    key: str,
    now: datetime,
) -> None:
    """One ready-made e-mail through the outbox (e.g. inbound mail's polite refusals),
    delivered like any other; a second call with the same ``key`` is a no-op."""
    if not key or len(key) > 200:
        raise Invalid("invalid_key", "an outbox key is 1 to 200 characters")
    payload = {"subject": subject, "text": text, "html": html, "headers": dict(headers or {})}
    db.flush()
    outbox.insert_ignoring_duplicates(
        db.connection(),
        [outbox.row(key=key, channel="email", kind="email", recipient=to, at=now, payload=payload)],
    )


def on_bug_state_change(
    *, db: Session, bug: Bug, before: str, actor: User | None, now: datetime
) -> int:
    """Signed webhooks for one bug state change, in the transaction that makes it.

    The vendor's own endpoints hear of every bug; an organisation's endpoint hears only of a
    public bug linked to one of its cases, with its own case refs and nothing internal. Returns
    the number of deliveries queued."""
    endpoints = db.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id)
    ).all()
    wanted = [e for e in endpoints if not e.kinds or rules.BUG_STATE_CHANGED in e.kinds]
    if not wanted:
        return 0
    linked: dict[int, list[str]] = {}
    for case_id, organisation_id in db.execute(
        select(Case.id, Case.organisation_id)
        .join(BugCase, BugCase.case_id == Case.id)
        .where(BugCase.bug_id == bug.id)
        .order_by(Case.id)
    ):
        linked.setdefault(organisation_id, []).append(format_ref(case_id))
    rows = []
    for endpoint in wanted:
        if endpoint.organisation_id is None:
            refs = [ref for refs in linked.values() for ref in refs]
        elif bug.public and endpoint.organisation_id in linked:
            refs = linked[endpoint.organisation_id]
        else:
            continue
        body = bug_webhook_body(bug, before=before, actor=actor, now=now, cases=sorted(refs))
        rows.append(
            outbox.row(
                key=rules.bug_webhook_key(
                    bug_id=bug.id,
                    state=bug.state,
                    at_epoch_ms=int(now.timestamp() * 1000),
                    endpoint_id=endpoint.id,
                ),
                channel="webhook",
                kind=rules.BUG_STATE_CHANGED,
                recipient=endpoint.url,
                at=now,
                endpoint_id=endpoint.id,
                payload={"body": body},
            )
        )
    if rows:
        db.flush()
        outbox.insert_ignoring_duplicates(db.connection(), rows)
    return len(rows)


def bug_webhook_body(
    bug: Bug, *, before: str, actor: User | None, now: datetime, cases: list[str]
) -> str:
    """The JSON sent, fixed when the change happens: every retry sends the same bytes. Only a
    bug's reportable fields, never the cases' contents."""
    return json.dumps(
        {
            "event": rules.BUG_STATE_CHANGED,
            "occurred_at": now.isoformat().replace("+00:00", "Z"),
            "bug": {
                "key": bug.key,
                "title": bug.title,
                "product": bug.product,
                "component": bug.component,
                "severity": bug.severity,
                "state": bug.state,
                "previous_state": before,
                "fix_version": bug.fix_version,
                "public": bug.public,
            },
            "cases": cases,
            "by": actor.role if actor is not None else "tracker",
        },
        sort_keys=True,
    )


# --- the in-app inbox ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxItem:
    notification: Notification
    case_ref: str | None
    headline: str
    message: str | None


def inbox(
    *, db: Session, user: User, unread_only: bool, limit: int, before_id: int | None
) -> tuple[list[InboxItem], int | None]:
    query = (
        select(Notification, Case, CaseEvent)
        .outerjoin(Case, Case.id == Notification.case_id)
        .outerjoin(CaseEvent, CaseEvent.id == Notification.event_id)
        .where(Notification.user_id == user.id, Notification.channel == "in_app")
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    rows = db.execute(query.order_by(Notification.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    items = [_item(n, c, e) for n, c, e in rows[:limit]]
    return items, (items[-1].notification.id if more and items else None)


def _item(notification: Notification, case: Case | None, event: CaseEvent | None) -> InboxItem:
    title = case.title if case is not None else ""
    data = event.data if event is not None else {}
    return InboxItem(
        notification,
        case.ref if case is not None else None,
        rules.headline(notification.kind, title, data),
        event.message if event is not None else None,
    )


def unread_count(*, db: Session, user: User) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.channel == "in_app",
                Notification.read_at.is_(None),
            )
        )
        or 0
    )


def mark_read(*, db: Session, user: User, notification_id: int | None, now: datetime) -> int:
    """Marks one of the user's in-app notifications read (or all of them with None)."""
    query = update(Notification).where(
        Notification.user_id == user.id,
        Notification.channel == "in_app",
        Notification.read_at.is_(None),
    )
    if notification_id is not None:
        owned = db.scalar(
            select(Notification.id).where(
                Notification.id == notification_id,
                Notification.user_id == user.id,
                Notification.channel == "in_app",
            )
        )
        if owned is None:
            raise NotFound("notification")
        query = query.where(Notification.id == notification_id)
    result = db.execute(query.values(read_at=now).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- preferences -----------------------------------------------------------------------------


def preferences(*, db: Session, user: User) -> list[dict[str, Any]]:
    """Every kind and channel with the user's choice, or the default where none."""
    chosen = {
        (p.kind, p.channel): p.enabled
        for p in db.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    return [
        {
            "kind": kind,
            "channel": channel,
            "enabled": chosen.get((kind, channel), default),
            "default": default,
        }
        for kind in sorted(rules.NOTIFIABLE)
        for channel in rules.USER_CHANNELS
        for default in [rules.default_enabled(user.role, kind, channel)]
    ]


def set_preferences(
    *, db: Session, user: User, choices: list[tuple[str, str, bool]], now: datetime
) -> list[dict[str, Any]]:
    existing = {
        (p.kind, p.channel): p
        for p in db.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for kind, channel, enabled in choices:
        if kind not in rules.NOTIFIABLE:
            raise Invalid("unknown_kind", f"kind must be one of {sorted(rules.NOTIFIABLE)}")
        if channel not in rules.USER_CHANNELS:
            raise Invalid("unknown_channel", f"channel must be one of {rules.USER_CHANNELS}")
        found = existing.get((kind, channel))
        if found is None:
            found = NotificationPreference(user_id=user.id, kind=kind, channel=channel)
            db.add(found)
            existing[(kind, channel)] = found
        found.enabled = enabled
        found.updated_at = now
    db.flush()
    return preferences(db=db, user=user)


# --- the admin's view ------------------------------------------------------------------------


def _require_admin(actor: User) -> None:
    if actor.role != "admin":
        raise Forbidden("admins_only", "only admins manage notification delivery")


def list_deliveries(
    *,
    db: Session,
    actor: User,
    state: str | None,
    channel: str | None,
    limit: int,
    before_id: int | None,
) -> tuple[list[Notification], int | None]:
    _require_admin(actor)
    if state is not None and state not in STATES:
        raise Invalid("invalid_state", f"state must be one of {STATES}")
    query = select(Notification).where(Notification.channel != "in_app")
    if state is not None:
        query = query.where(Notification.state == state)
    if channel is not None:
        query = query.where(Notification.channel == channel)
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    rows = list(db.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def retry(*, db: Session, actor: User, notification_id: int, now: datetime) -> Notification:
    """A dead (or failing) delivery gets a fresh set of attempts, starting now."""
    _require_admin(actor)
    found = db.get(Notification, notification_id)
    if found is None or found.channel == "in_app":
        raise NotFound("notification")
    if found.state not in ("dead", "failed"):
        raise Conflict("not_retryable", f"this delivery is {found.state}, not dead or failed")
    before = found.state
    claimed = db.execute(
        update(Notification)
        .where(Notification.id == found.id, Notification.state == before)
        .values(state="pending", attempts=0, next_attempt_at=now, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        raise Conflict("not_retryable", "this delivery changed meanwhile; reload")
    audit.record(
        db=db,
        at=now,
        actor_id=actor.id,
        action="notification.retried",
        object_type="notification",
        object_id=found.id,
        data={"state": [before, "pending"], "channel": found.channel, "kind": found.kind},
    )
    db.refresh(found)
    return found


def list_endpoints(*, db: Session, actor: User) -> list[WebhookEndpoint]:
    _require_admin(actor)
    return list(db.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def create_endpoint(
    *,
    db: Session,
    actor: User,
    url: str,
    organisation_id: int | None,
    kinds: list[str],
    now: datetime,
) -> WebhookEndpoint:
    _require_admin(actor)
    if not url.startswith(("https://", "http://")):
        raise Invalid("invalid_url", "a webhook URL starts with https:// (or http://)")
    unknown = set(kinds) - rules.WEBHOOK_KINDS
    if unknown:
        raise Invalid("unknown_kind", f"unknown kinds {sorted(unknown)}")
    if organisation_id is not None and db.get(Organisation, organisation_id) is None:
        raise Invalid("unknown_organisation", f"no organisation {organisation_id}")
    endpoint = WebhookEndpoint(
        organisation_id=organisation_id,
        url=url,
        secret=secrets.token_urlsafe(32),
        kinds=sorted(set(kinds)),
        active=True,
        created_at=now,
    )
    db.add(endpoint)
    db.flush()
    audit.record(
        db=db,
        at=now,
        actor_id=actor.id,
        action="webhook_endpoint.created",
        object_type="webhook_endpoint",
        object_id=endpoint.id,
        organisation_id=organisation_id,
        data={"url": url, "kinds": endpoint.kinds},
    )
    return endpoint


def deactivate_endpoint(
    *, db: Session, actor: User, endpoint_id: int, now: datetime
) -> WebhookEndpoint:
    _require_admin(actor)
    endpoint = db.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("webhook endpoint")
    endpoint.active = False
    audit.record(
        db=db,
        at=now,
        actor_id=actor.id,
        action="webhook_endpoint.deactivated",
        object_type="webhook_endpoint",
        object_id=endpoint.id,
        organisation_id=endpoint.organisation_id,
    )
    return endpoint
