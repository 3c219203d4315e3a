"""Draining the outbox: claim due rows, send each, record the outcome.

The protocol, per row: the claim marks it ``sending`` with a lease (committed) → the message
goes out → the row is marked ``sent`` (committed). A runner that dies between the send and the
mark leaves the row ``sending``; once its lease (``next_attempt_at``) passes, any runner claims
it again and sends it again, with the same Message-ID / ``X-Critdesk-Delivery``. That window —
the message in flight, at most one per sending lane (``outbox_send_threads`` per runner) — is
the only way a message goes out twice, and receivers drop the copy by those ids. Every other
update is fenced by the claim (``claimed_by`` and ``attempts`` must still match), so two
runners never both own a row.

Claims take a batch at once with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent
runners take different rows; on SQLite the one writer at a time makes the same conditional
update safe.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from critdesk.adapters.smtp import Mailer, MailError
from critdesk.adapters.webhook import WebhookError, WebhookSender, signed_headers
from critdesk.auth.models import User
from critdesk.case.models import Case, CaseEvent, format_ref
from critdesk.config import Settings
from critdesk.db import Database
from critdesk.notification import outbox, rules
from critdesk.notification.models import CLAIMABLE, Notification, WebhookEndpoint
from critdesk.notification.render import CaseView, Sender, case_email, ready_email
from critdesk.observability.context import bound_request_id, current_request_id
from critdesk.organisation.models import Organisation

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass
class Transports:
    mailer: Mailer
    webhooks: WebhookSender

    def close(self) -> None:
        self.mailer.close()
        self.webhooks.close()


@dataclass
class Delivered:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    lost: int = 0

    def add(self, other: Delivered) -> None:
        for name in ("claimed", "sent", "failed", "dead", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Job:
    id: int
    attempt: int
    channel: str
    kind: str
    send: Callable[[], None] | None = None
    error: str | None = None
    # The causing request's id (or the drain's own): the send's log lines carry it.
    request_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def due_count(db: Session, now: datetime) -> int:
    """How many rows are waiting (a cheap read before taking the write lock to claim)."""
    return len(
        db.scalars(
            select(Notification.id)
            .where(Notification.state.in_(CLAIMABLE), Notification.next_attempt_at <= now)
            .limit(1)
        ).all()
    )


def fan_out_pending(
    database: Database, *, batches: int = 20, routine_by: datetime | None = None
) -> int:
    """Writes the outbox rows of events marked by ``outbox.pending`` (a batch a transaction,
    at most ``batches`` of them; routine events only if they happened by ``routine_by``, when
    given); returns how many events it fanned out."""
    done = 0
    for _ in range(batches):
        with database.session(read_only=True) as db:
            if not outbox.has_pending(db, routine_by=routine_by):
                break
        with database.session() as db:
            batch = outbox.fan_out_batch(db)
            count = outbox.fan_out(db, limit=batch, routine_by=routine_by)
        done += count
        if count < batch:
            break
    return done


def deliver_due(
    *,
    database: Database,
    settings: Settings,
    transports: Transports,
    clock: Clock,
    limit: int | None = None,
    worker: str | None = None,
    jitter: Callable[[], float] = random.random,
    hold_routine: Callable[[], bool] | None = None,
) -> Delivered:
    """Fans out the events waiting for it, then claims one batch of due rows and delivers it;
    returns what happened.

    While ``hold_routine()`` says so (the embedded runner's host is contended), routine rows
    are claimed only once due for ``outbox_routine_hold_seconds``: SLA warnings and breaches
    go out at once, the rest waits for a quieter moment, but not longer than that."""
    worker = worker or runner_name()
    hold = settings.outbox_routine_hold_seconds
    # While held, routine events and rows count only once this old (None: no hold).
    routine_by = (
        clock() - timedelta(seconds=hold)
        if hold > 0 and hold_routine is not None and hold_routine()
        else None
    )
    fan_out_pending(database, routine_by=routine_by)
    now = clock()
    with database.session(read_only=True) as db:
        if not due_count(db, now):
            return Delivered()  # nothing due: no write lock taken to claim nothing
    with database.session() as db:
        claimed = _claim(db, now, worker, limit or settings.outbox_batch_size, settings, routine_by)
    result = Delivered(claimed=len(claimed))
    if not claimed:
        return result
    with database.session(read_only=True) as db:
        jobs = _prepare(db, claimed, settings, transports, now)
    # Several lanes, each sending its share in order over its own connection: the commit that
    # marks a row sent waits on the database's disk, so one lane alone is slow. Each lane has
    # at most one message in flight.
    lanes = [jobs[i :: settings.outbox_send_threads] for i in range(settings.outbox_send_threads)]
    lanes = [lane for lane in lanes if lane]
    marks = _Marks(database, worker)
    if len(lanes) == 1:
        outcomes = [_send_lane(lanes[0], marks, settings, clock, jitter)]
    else:
        with ThreadPoolExecutor(len(lanes), thread_name_prefix="critdesk-send") as pool:
            outcomes = list(
                pool.map(
                    lambda lane: _send_lane(lane, marks, settings, clock, jitter),
                    lanes,
                )
            )
    for outcome in outcomes:
        result.add(outcome)
    return result


def _send_lane(
    jobs: list[_Job],
    marks: _Marks,
    settings: Settings,
    clock: Clock,
    jitter: Callable[[], float],
) -> Delivered:
    result = Delivered()
    renewed = time.monotonic()
    for job in jobs:
        if time.monotonic() - renewed > settings.outbox_lease_seconds / 3:
            # A long batch: keep the lease of the row about to go out, or leave it if another
            # runner already took it over.
            if not _renew(marks, job, clock(), settings):
                result.lost += 1
                continue
            renewed = time.monotonic()
        with bound_request_id(job.request_id):
            outcome = _attempt(job, settings)
            recorded = _record(marks, job, clock(), outcome, settings, jitter)
        if not recorded:
            result.lost += 1
        else:
            setattr(result, outcome[0], getattr(result, outcome[0]) + 1)
    return result


def deliver_until_idle(
    *,
    database: Database,
    settings: Settings,
    transports: Transports,
    clock: Clock,
    budget_seconds: float = 60.0,
    worker: str | None = None,
    hold_routine: Callable[[], bool] | None = None,
) -> Delivered:
    """Batches until nothing is due (or the time budget is spent: other jobs get a turn)."""
    total = Delivered()
    started = time.monotonic()
    while time.monotonic() - started < budget_seconds:
        batch = deliver_due(
            database=database,
            settings=settings,
            transports=transports,
            clock=clock,
            worker=worker,
            hold_routine=hold_routine,
        )
        total.add(batch)
        if batch.claimed == 0:
            break
    return total


def _claim(
    db: Session,
    now: datetime,
    worker: str,
    limit: int,
    settings: Settings,
    routine_by: datetime | None = None,
) -> list[tuple[int, int]]:
    """Claims up to ``limit`` due rows: SLA warnings and breaches first, whatever waits before
    them (a burst of cases leaves a backlog of routine e-mails that a breach must not queue
    behind), then the others due by ``routine_by`` (default: now), oldest first."""
    claimed = _claim_due(db, now, worker, limit, settings, urgent=True)
    if len(claimed) < limit:
        claimed += _claim_due(
            db, now, worker, limit - len(claimed), settings, urgent=False, due_by=routine_by
        )
    return sorted(claimed)


def _claim_due(
    db: Session,
    now: datetime,
    worker: str,
    limit: int,
    settings: Settings,
    *,
    urgent: bool,
    due_by: datetime | None = None,
) -> list[tuple[int, int]]:
    conditions = [
        Notification.state.in_(CLAIMABLE),
        Notification.next_attempt_at <= (now if due_by is None else due_by),
    ]
    if urgent:
        conditions.append(Notification.kind.in_(rules.URGENT_KINDS))
    due = (
        select(Notification.id)
        .where(*conditions)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        # Materialised once: as a plain subquery PostgreSQL may run it again for each row of
        # the update (a nested-loop rescan), locking and claiming far more than ``limit``.
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    claimed = db.execute(
        update(Notification)
        .where(
            Notification.id.in_(select(due.c.id)),
            Notification.state.in_(CLAIMABLE),
            Notification.next_attempt_at <= now,
        )
        .values(
            state="sending",
            attempts=Notification.attempts + 1,
            claimed_at=now,
            claimed_by=worker,
            next_attempt_at=now + timedelta(seconds=settings.outbox_lease_seconds),
        )
        .returning(Notification.id, Notification.attempts)
        .execution_options(synchronize_session=False)
    )
    return [(row[0], row[1]) for row in claimed.all()]


@functools.cache
def _fenced(columns: frozenset[str]) -> Any:
    """The update of a claimed row that sets ``columns``, fenced by the claim: it changes
    nothing once another runner has taken the row over. One statement per set of columns, its
    values bound at execution (``f_id``, ``f_worker``, ``f_attempt`` and ``v_<column>``), so
    SQLAlchemy compiles it once instead of once per message."""
    table = cast(Table, Notification.__table__)
    return (
        update(table)
        .where(
            table.c.id == bindparam("f_id"),
            table.c.state == "sending",
            table.c.claimed_by == bindparam("f_worker"),
            table.c.attempts == bindparam("f_attempt"),
        )
        .values({name: bindparam(f"v_{name}") for name in sorted(columns)})
    )


def _renew(marks: _Marks, job: _Job, now: datetime, settings: Settings) -> bool:
    lease = now + timedelta(seconds=settings.outbox_lease_seconds)
    return marks.apply(job, {"next_attempt_at": lease})


def _attempt(job: _Job, settings: Settings) -> tuple[str, str | None]:
    """('sent' | 'failed' | 'dead', error)."""
    if job.attempt > settings.notification_max_attempts:
        # Claimed again and again without an outcome: a runner dies on this row.
        return "dead", job.error or "gave up: no outcome recorded after repeated claims"
    if job.send is None:
        return "dead", job.error or "nothing to send"
    try:
        job.send()
    except (MailError, WebhookError) as error:
        permanent = isinstance(error, MailError) and error.permanent
        if permanent or job.attempt >= settings.notification_max_attempts:
            return "dead", str(error)
        return "failed", str(error)
    except Exception as error:
        log.exception("notification %s: unexpected delivery error", job.id)
        if job.attempt >= settings.notification_max_attempts:
            return "dead", repr(error)
        return "failed", repr(error)
    return "sent", None


def _record(
    marks: _Marks,
    job: _Job,
    now: datetime,
    outcome: tuple[str, str | None],
    settings: Settings,
    jitter: Callable[[], float],
) -> bool:
    state, error = outcome
    # claimed_by stays: which runner delivered (or gave up on) the row.
    values: dict[str, Any] = {"state": state, "last_error": error}
    if state == "sent":
        values["sent_at"] = now
    elif state == "failed":
        wait = rules.backoff_seconds(
            job.attempt,
            base=settings.notification_retry_base_seconds,
            cap=settings.notification_retry_max_seconds,
            jitter=jitter(),
        )
        values["next_attempt_at"] = now + timedelta(seconds=wait)
    else:
        log.warning("notification %s (%s) is dead: %s", job.id, job.channel, error)
    return marks.apply(job, values)


@dataclass
class _Mark:
    job: _Job
    values: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    applied: bool = False
    error: BaseException | None = None


class _Marks:
    """Group commit of the lanes' outcomes.

    A lane records each message's outcome before it sends its next one, so a runner killed
    mid-batch leaves at most one message per lane sent but not marked (its receiver drops the
    repeat by Message-ID). The lanes' marks still need not each be a transaction of their own:
    the first lane to arrive commits every mark waiting at that moment in one transaction,
    while the others wait for theirs to be committed (as a database's group commit does). On
    SQLite that is one turn in the writers' line for several messages instead of one each.
    """

    def __init__(self, database: Database, worker: str) -> None:
        self._database, self._worker = database, worker
        self._lock = threading.Lock()
        self._waiting: list[_Mark] = []
        self._leading = False

    def apply(self, job: _Job, values: dict[str, Any]) -> bool:
        """Commits one fenced update of a claimed row; False when the claim was lost."""
        mark = _Mark(job, values)
        with self._lock:
            self._waiting.append(mark)
            lead = not self._leading
            self._leading = True
        if lead:
            while True:
                with self._lock:
                    batch, self._waiting = self._waiting, []
                    if not batch:
                        self._leading = False
                        break
                self._commit(batch)
        mark.done.wait()
        if mark.error is not None:
            raise mark.error
        return mark.applied

    def _commit(self, batch: list[_Mark]) -> None:
        try:
            with self._database.engine.begin() as connection:
                for mark in batch:
                    fenced = _fenced(frozenset(mark.values))
                    values = {f"v_{name}": value for name, value in mark.values.items()}
                    params = {
                        "f_id": mark.job.id,
                        "f_worker": self._worker,
                        "f_attempt": mark.job.attempt,
                    }
                    mark.applied = bool(connection.execute(fenced, params | values).rowcount)
        except BaseException as error:
            for mark in batch:
                mark.applied, mark.error = False, error
        finally:
            for mark in batch:
                mark.done.set()


# --- preparing what each row sends -------------------------------------------------------------


def _prepare(
    db: Session,
    claimed: list[tuple[int, int]],
    settings: Settings,
    transports: Transports,
    now: datetime,
) -> list[_Job]:
    attempts = dict(claimed)
    rows = list(db.scalars(select(Notification).where(Notification.id.in_(attempts))))
    context = _Context(db, rows)
    sender = Sender(settings.mail_from, settings.mail_domain, settings.base_url)
    jobs = []
    for row in sorted(rows, key=lambda r: r.id):
        job = _Job(
            row.id,
            attempts[row.id],
            row.channel,
            row.kind,
            request_id=row.request_id or current_request_id(),
        )
        try:
            job.send = _sender_of(row, context, sender, transports, now)
        except Exception as error:  # a row that cannot be rendered must not stop the batch
            log.exception("notification %s cannot be prepared", row.id)
            job.error = f"cannot prepare: {error!r}"
        jobs.append(job)
    return jobs


class _Context:
    """The cases, events, people and endpoints a batch refers to, read in a few queries."""

    def __init__(self, db: Session, rows: list[Notification]) -> None:
        case_ids = {r.case_id for r in rows if r.case_id is not None}
        event_ids = {r.event_id for r in rows if r.event_id is not None}
        user_ids = {r.user_id for r in rows if r.user_id is not None}
        endpoint_ids = {r.endpoint_id for r in rows if r.endpoint_id is not None}
        self.cases = {
            c.id: (c, name)
            for c, name in db.execute(
                select(Case, Organisation.name)
                .join(Organisation, Organisation.id == Case.organisation_id)
                .where(Case.id.in_(case_ids))
            )
        }
        self.events = {
            e.id: e for e in db.scalars(select(CaseEvent).where(CaseEvent.id.in_(event_ids)))
        }
        self.people = {
            u.id: (u.id, u.name, u.role)
            for u in db.execute(select(User.id, User.name, User.role).where(User.id.in_(user_ids)))
        }
        self.endpoints = {
            e.id: e
            for e in db.scalars(select(WebhookEndpoint).where(WebhookEndpoint.id.in_(endpoint_ids)))
        }


def _sender_of(
    row: Notification,
    context: _Context,
    sender: Sender,
    transports: Transports,
    now: datetime,
) -> Callable[[], None]:
    if row.channel == "webhook":
        return _webhook_send(row, context, transports)
    if row.channel != "email":
        raise ValueError(f"channel {row.channel!r} is not delivered")
    if row.payload and row.event_id is None:
        message = ready_email(
            sender=sender,
            key=row.key,
            to=row.recipient,
            payload=row.payload,
            created_at=row.created_at,
        )
    else:
        message = _case_message(row, context, sender)
    return lambda: transports.mailer.send(message)


def _case_message(row: Notification, context: _Context, sender: Sender) -> Message:
    assert row.case_id is not None and row.event_id is not None and row.user_id is not None
    case, organisation = context.cases[row.case_id]
    event = context.events[row.event_id]
    view = CaseView(
        ref=format_ref(case.id),
        title=case.title,
        severity=case.severity,
        state=case.state,
        organisation=organisation,
        reporter_id=case.reporter_id,
        owner_id=case.owner_id,
        due_at=case.sla_due_at,
        kind=row.kind,
        message=event.message,
        data=event.data or {},
    )
    person = context.people.get(row.user_id, (row.user_id, row.recipient, "customer"))
    return case_email(
        sender=sender,
        key=row.key,
        to=row.recipient,
        person=person,
        case=view,
        created_at=row.created_at,
    )


def _webhook_send(
    row: Notification, context: _Context, transports: Transports
) -> Callable[[], None]:
    endpoint = context.endpoints.get(row.endpoint_id or -1)
    if endpoint is None or not endpoint.active:
        raise ValueError("the webhook endpoint was removed or deactivated")
    body = str((row.payload or {}).get("body", "{}")).encode()
    url, secret, kind, delivery = endpoint.url, endpoint.secret, row.kind, row.id

    def send() -> None:
        # Signed at the moment of sending: the timestamp is part of the signature.
        headers = signed_headers(
            secret=secret, body=body, event=kind, delivery_id=delivery, timestamp=int(time.time())
        )
        transports.webhooks.post(url, body, headers)

    return send
