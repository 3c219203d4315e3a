"""The outbox: a change's notifications, committed with it, fanned out after it.

``case/service._event`` writes every timeline event with the mark ``pending`` makes of it: a
notifiable one carries ``notify`` (the case as it stood: severity, state, owner, and the
request's id), in the caller's transaction: nothing more is written while a customer waits
for their report.
The outbox drain (``fan_out``, before each delivery batch) picks up the marked events
oldest first, works out every recipient of the whole batch with a handful of queries, writes
their rows (``INSERT … ON CONFLICT (key) DO NOTHING``: a second pass is a no-op) and clears
the mark, in one transaction: an event is fanned out exactly once, and a crash in between
leaves it marked for the next pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from critdesk.auth.models import CUSTOMER_ROLES, User
from critdesk.case.models import Case, CaseEvent, format_ref
from critdesk.db import write_batch
from critdesk.notification import rules
from critdesk.notification.models import Notification, NotificationPreference, WebhookEndpoint
from critdesk.observability.context import bound_request_id, current_request_id
from critdesk.organisation.models import Organisation

FAN_OUT_BATCH = 500
# Each event writes a row for everyone it reaches: on SQLite a batch is held short (db.py).
SQLITE_FAN_OUT_BATCH = 50


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """The case as it stood when the event happened (the owner may change later on)."""

    id: int
    ref: str
    title: str
    severity: str
    state: str
    organisation_id: int
    reporter_id: int
    owner_id: int | None


@dataclass(frozen=True, slots=True)
class Pending:
    case: CaseFacts
    event: CaseEvent
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    email: str
    role: str
    organisation_id: int | None


def pending(case: Case, kind: str) -> dict[str, Any] | None:
    """The ``notify`` mark of a new timeline event of ``kind``: what the fan-out needs of the
    case as it stands now, and the request's id; None when the event notifies no one."""
    if kind not in rules.NOTIFIABLE:
        return None
    return {
        "severity": case.severity,
        "state": case.state,
        "owner_id": case.owner_id,
        "request_id": current_request_id(),
    }


def _waiting(routine_by: datetime | None) -> list[ColumnElement[bool]]:
    """Events marked for the fan-out; with ``routine_by``, routine ones only if they happened
    by then (SLA warnings and breaches whenever)."""
    conditions: list[ColumnElement[bool]] = [CaseEvent.notify.is_not(None)]
    if routine_by is not None:
        conditions.append(or_(CaseEvent.kind.in_(rules.URGENT_KINDS), CaseEvent.at <= routine_by))
    return conditions


def has_pending(db: Session, *, routine_by: datetime | None = None) -> bool:
    """Whether any event waits to be fanned out (a cheap read before taking a write lock)."""
    query = select(CaseEvent.id).where(*_waiting(routine_by)).limit(1)
    return db.scalar(query) is not None


def fan_out_batch(db: Session) -> int:
    """How many events one ``fan_out`` takes by default on this database."""
    return write_batch(db, FAN_OUT_BATCH, sqlite=SQLITE_FAN_OUT_BATCH)


def fan_out(db: Session, *, limit: int | None = None, routine_by: datetime | None = None) -> int:
    """Writes the outbox rows of up to ``limit`` (``fan_out_batch``) marked events, oldest
    first (routine ones only if they happened by ``routine_by``, when given); returns how many
    events it fanned out. On PostgreSQL concurrent drains skip each other's events."""
    limit = limit or fan_out_batch(db)
    query = (
        select(CaseEvent, Case.title, Case.organisation_id, Case.reporter_id)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(*_waiting(routine_by))
        .order_by(CaseEvent.id)
        .limit(limit)
    )
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=CaseEvent)
    batch = []
    for case_event, title, organisation_id, reporter_id in db.execute(query):
        facts = case_event.notify or {}
        case = CaseFacts(
            case_event.case_id,
            format_ref(case_event.case_id),
            title,
            facts.get("severity", ""),
            facts.get("state", ""),
            organisation_id,
            reporter_id,
            facts.get("owner_id"),
        )
        batch.append(Pending(case, case_event, facts.get("request_id")))
    if not batch:
        return 0
    connection = db.connection()
    insert_ignoring_duplicates(connection, _rows(connection, batch))
    db.execute(
        update(CaseEvent)
        .where(CaseEvent.id.in_([p.event.id for p in batch]))
        .values(notify=None)
        .execution_options(synchronize_session=False)
    )
    return len(batch)


def fan_out_all(db: Session) -> int:
    """Every marked event, in batches, in the caller's transaction (the demo's load; a drain
    commits each batch on its own instead: ``notification.jobs.fan_out_pending``)."""
    done = 0
    while True:
        count = fan_out(db, limit=FAN_OUT_BATCH)
        done += count
        if count < FAN_OUT_BATCH:
            return done


def insert_ignoring_duplicates(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """``INSERT … ON CONFLICT (key) DO NOTHING``: a second row for one key is a no-op."""
    if not rows:
        return
    if connection.dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        _copy_then_insert(connection, rows)
        return
    dialects: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
    make = dialects.get(connection.dialect.name)
    statement = (
        make(Notification).on_conflict_do_nothing(index_elements=["key"])
        if make
        else insert(Notification)
    )
    # One short statement, executed for every row (pipelined by psycopg): cheaper than
    # multi-row statements, whose thousands of placeholders the driver parses each time.
    connection.execute(statement, list(rows))


# From this many rows (a sweep's batch), PostgreSQL gets them by COPY into a staging table of
# the session and one INSERT … SELECT … ON CONFLICT: several times cheaper per row.
COPY_FROM = 200
_STAGE = "critdesk_outbox_stage"
_COLUMNS = (
    "key",
    "channel",
    "kind",
    "user_id",
    "endpoint_id",
    "case_id",
    "event_id",
    "recipient",
    "payload",
    "state",
    "attempts",
    "next_attempt_at",
    "created_at",
    "sent_at",
    "request_id",
)


def _copy_then_insert(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    columns = ", ".join(_COLUMNS)
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS "
            f"SELECT {columns} FROM notifications WITH NO DATA"
        )
        with cursor.copy(f"COPY {_STAGE} ({columns}) FROM STDIN") as copy:
            for item in rows:
                payload = item["payload"]
                copy.write_row(
                    [
                        json.dumps(payload)
                        if name == "payload" and payload is not None
                        else item[name]
                        for name in _COLUMNS
                    ]
                )
        cursor.execute(
            f"INSERT INTO notifications ({columns}) SELECT {columns} FROM {_STAGE} "
            "ON CONFLICT (key) DO NOTHING"
        )
        cursor.execute(f"TRUNCATE {_STAGE}")


def row(
    *,
    key: str,
    channel: str,
    kind: str,
    recipient: str,
    at: datetime,
    user_id: int | None = None,
    endpoint_id: int | None = None,
    case_id: int | None = None,
    event_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    # In-app notifications are delivered by being written: the row is the notification.
    in_app = channel == "in_app"
    return {
        "key": key,
        "channel": channel,
        "kind": kind,
        "user_id": user_id,
        "endpoint_id": endpoint_id,
        "case_id": case_id,
        "event_id": event_id,
        "recipient": recipient,
        "payload": payload,
        "state": "sent" if in_app else "pending",
        "attempts": 0,
        "next_attempt_at": at,
        "claimed_at": None,
        "claimed_by": None,
        "last_error": None,
        "created_at": at,
        "sent_at": at if in_app else None,
        "read_at": None,
        "request_id": current_request_id(),
    }


class _Directory:
    """Everyone the batch's events may reach, read once per flush."""

    def __init__(self, connection: Connection, batch: Sequence[Pending]) -> None:
        kinds = {p.event.kind for p in batch}
        organisations = {p.case.organisation_id for p in batch}
        wanted = {p.case.reporter_id for p in batch} | {
            p.case.owner_id for p in batch if p.case.owner_id is not None
        }
        self.account_manager: dict[int, int | None] = {
            organisation_id: manager_id
            for organisation_id, manager_id in connection.execute(
                select(Organisation.id, Organisation.account_manager_id).where(
                    Organisation.id.in_(organisations)
                )
            )
        }
        wanted |= {m for m in self.account_manager.values() if m is not None}
        people = select(User.id, User.email, User.role, User.organisation_id).where(
            User.active.is_(True)
        )
        # One query for the named people, every lead and the organisations' admins.
        self.people = {
            p.id: p
            for p in _people(
                connection,
                people.where(
                    User.id.in_(wanted)
                    | (User.role == "lead")
                    | ((User.role == "customer_admin") & User.organisation_id.in_(organisations))
                ),
            )
        }
        self.leads = sorted(p.id for p in self.people.values() if p.role == "lead")
        self.admins: dict[int, list[int]] = {}
        for person in sorted(self.people.values(), key=lambda p: p.id):
            if person.role == "customer_admin" and person.organisation_id is not None:
                self.admins.setdefault(person.organisation_id, []).append(person.id)
        self.choices = {
            (user_id, kind, channel): enabled
            for user_id, kind, channel, enabled in connection.execute(
                select(
                    NotificationPreference.user_id,
                    NotificationPreference.kind,
                    NotificationPreference.channel,
                    NotificationPreference.enabled,
                ).where(
                    NotificationPreference.user_id.in_(self.people),
                    NotificationPreference.kind.in_(kinds),
                )
            )
        }
        self.endpoints = [
            tuple(endpoint)
            for endpoint in connection.execute(
                select(
                    WebhookEndpoint.id,
                    WebhookEndpoint.organisation_id,
                    WebhookEndpoint.url,
                    WebhookEndpoint.kinds,
                ).where(
                    WebhookEndpoint.active.is_(True),
                    WebhookEndpoint.organisation_id.is_(None)
                    | WebhookEndpoint.organisation_id.in_(organisations),
                )
            )
        ]

    def recipients(self, pending: Pending) -> list[Person]:
        case, kind = pending.case, pending.event.kind
        ids: list[int | None] = []
        for party in sorted(rules.parties(kind, internal=pending.event.internal)):
            members: dict[str, Sequence[int | None]] = {
                "reporter": [case.reporter_id],
                "customer_admins": self.admins.get(case.organisation_id, []),
                "owner": [case.owner_id],
                "leads": self.leads,
                "account_manager": [self.account_manager.get(case.organisation_id)],
            }
            ids += members[party]
        found: dict[int, Person] = {}
        for user_id in ids:
            person = self.people.get(user_id) if user_id is not None else None
            if person is None or person.id in found:
                continue
            if person.id == pending.event.actor_id and kind not in rules.TOLD_THEIR_OWN:
                continue
            if person.role in CUSTOMER_ROLES and (
                pending.event.internal or person.organisation_id != case.organisation_id
            ):
                continue  # belt and braces: never a customer for an internal event
            found[person.id] = person
        return list(found.values())

    def wants(self, person: Person, kind: str, channel: str) -> bool:
        chosen = self.choices.get((person.id, kind, channel))
        return rules.default_enabled(person.role, kind, channel) if chosen is None else chosen


def _people(connection: Connection, query: Any) -> list[Person]:
    return [Person(*r) for r in connection.execute(query)]


def _rows(connection: Connection, batch: Sequence[Pending]) -> list[dict[str, Any]]:
    directory = _Directory(connection, batch)
    rows: list[dict[str, Any]] = []
    for pending in batch:
        # Each row keeps the id of the request that caused it (``row`` reads it).
        with bound_request_id(pending.request_id):
            rows += _user_rows(directory, pending)
            rows += _webhook_rows(directory, pending)
    return rows


def _user_rows(directory: _Directory, pending: Pending) -> Iterable[dict[str, Any]]:
    case, case_event = pending.case, pending.event
    for person in directory.recipients(pending):
        for channel in rules.USER_CHANNELS:
            if not directory.wants(person, case_event.kind, channel):
                continue
            yield row(
                key=rules.user_key(
                    case_event.kind,
                    case_id=case.id,
                    event_id=case_event.id,
                    user_id=person.id,
                    channel=channel,
                ),
                channel=channel,
                kind=case_event.kind,
                recipient=person.email,
                at=case_event.at,
                user_id=person.id,
                case_id=case.id,
                event_id=case_event.id,
            )


def _webhook_rows(directory: _Directory, pending: Pending) -> Iterable[dict[str, Any]]:
    case, case_event = pending.case, pending.event
    for endpoint_id, organisation_id, url, kinds in directory.endpoints:
        if organisation_id is not None and (
            organisation_id != case.organisation_id or case_event.internal
        ):
            continue
        if kinds and case_event.kind not in kinds:
            continue
        yield row(
            key=rules.webhook_key(
                case_event.kind, case_id=case.id, event_id=case_event.id, endpoint_id=endpoint_id
            ),
            channel="webhook",
            kind=case_event.kind,
            recipient=url,
            at=case_event.at,
            endpoint_id=endpoint_id,
            case_id=case.id,
            event_id=case_event.id,
            payload={"body": webhook_body(case, case_event)},
        )


def webhook_body(case: CaseFacts, case_event: CaseEvent) -> str:
    """The JSON sent, fixed when the event happens: every retry sends the same bytes."""
    return json.dumps(
        {
            "event": case_event.kind,
            "event_id": case_event.id,
            "occurred_at": case_event.at.isoformat().replace("+00:00", "Z"),
            "case": {
                "ref": case.ref,
                "title": case.title,
                "severity": case.severity,
                "state": case.state,
            },
            "message": case_event.message,
            "data": case_event.data,
            "internal": case_event.internal,
        },
        sort_keys=True,
        default=str,
    )
