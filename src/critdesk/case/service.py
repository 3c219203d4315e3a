"""Case use cases: report, read, list, and the named actions of the case life cycle.

Every change writes a timeline event and an audit event in the caller's transaction; nothing
here commits.
"""

from __future__ import annotations

import functools
import hashlib
import json
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar, cast

from sqlalchemy import (
    JSON,
    Integer,
    Select,
    Table,
    bindparam,
    insert,
    null,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, class_mapper, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from critdesk.audit import service as audit
from critdesk.aup import service as aup
from critdesk.auth.models import User
from critdesk.case import rules
from critdesk.case.models import REF_PREFIX, Case, CaseEvent, IdempotencyKey
from critdesk.db import insert_row, reads_before_writes
from critdesk.errors import Conflict, Forbidden, Invalid, NotFound
from critdesk.organisation.models import Environment, Organisation
from critdesk.package.models import SupportPackage
from critdesk.package.service import calendar_of
from critdesk.request.models import InfoRequest
from critdesk.sla import rules as sla

HANDLER_ROLES = frozenset({"engineer", "lead", "admin"})
CHANNEL_NAMES = {
    "web": "the web portal and API",
    "email": "e-mail",
    "phone": "telephone",
}


@dataclass(frozen=True, slots=True)
class NewCase:
    title: str
    description: str
    environment_id: int
    impact: rules.Impact
    breadth: str
    end_users_blocked: bool
    channel: str = "web"


def parse_ref(ref: str) -> int:
    """The case id behind ``PCH-000123``; a malformed ref reads as an absent case."""
    number = ref[len(REF_PREFIX) :] if ref.upper().startswith(REF_PREFIX) else ""
    if not (number.isascii() and number.isdigit()) or len(number) > 12:
        raise NotFound("case")
    return int(number)


def describe_channels(package: SupportPackage) -> str:
    names = [CHANNEL_NAMES.get(c, c) for c in package.channels]
    return ", ".join(names) if names else "none"


def check_entitlement(package: SupportPackage, channel: str) -> None:
    """Acceptable Use: only entitled packages, and only on the channels they have."""
    if not package.desk_access:
        raise Forbidden(
            "no_desk_access",
            f"your {package.name} package does not include the critical-issue desk; "
            f"please use the ordinary Support Helpdesk on {describe_channels(package)}",
        )
    if channel not in package.channels:
        raise Forbidden(
            "channel_not_available",
            f"your {package.name} package has no {CHANNEL_NAMES.get(channel, channel)} channel; "
            f"it has {describe_channels(package)}",
        )


def _request_hash(new: NewCase) -> str:
    payload = json.dumps(
        {
            "title": new.title,
            "description": new.description,
            "environment_id": new.environment_id,
            "impact": _impact_dict(new.impact),
            "breadth": new.breadth,
            "end_users_blocked": new.end_users_blocked,
            "channel": new.channel,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _impact_dict(impact: rules.Impact) -> dict[str, bool]:
    return {
        "app_unavailable": impact.app_unavailable,
        "security_vulnerability": impact.security_vulnerability,
        "data_loss": impact.data_loss,
        "degraded": impact.degraded,
    }


def _replayed(db: Session, user: User, key: str, request_hash: str) -> Case | None:
    row = db.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key)
    )
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise Invalid(
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request body",
        )
    return load_case(db, row.case_id)


def preview(
    *, package: SupportPackage, environment: Environment, new: NewCase, now: datetime
) -> dict[str, Any]:
    """What intake would decide, without writing anything (the report form shows it live)."""
    report = rules.Report(new.impact, new.breadth, new.end_users_blocked, environment.production)
    severity = rules.assess_severity(report)
    qualification = rules.qualify(report)
    result: dict[str, Any] = {
        "severity": severity.severity,
        "severity_reasons": list(severity.reasons),
        "qualification": {
            "status": qualification.status,
            "reasons": list(qualification.reasons),
            "suggested_redirect": qualification.suggested_redirect,
        },
        "sla": None,
    }
    if package.desk_access:
        target = int(package.sla_targets[severity.severity])
        clock = sla.start_clock(calendar_of(package), now, target)
        result["sla"] = {
            "target_seconds": target,
            "clock_starts_at": clock.clock_starts_at,
            "due_at": clock.due_at,
        }
    return result


# Built once (Session.get builds and keys a new select each time).
_ENVIRONMENT = select(Environment).where(Environment.id == bindparam("id"))


def own_environment(db: Session, reporter: User, environment_id: int) -> Environment:
    environment = db.execute(_ENVIRONMENT, {"id": environment_id}).scalar_one_or_none()
    if environment is None or environment.organisation_id != reporter.organisation_id:
        # Another organisation's environment reads exactly like an unknown one.
        raise Invalid(
            "unknown_environment",
            f"environment_id {environment_id} is not one of your organisation's environments",
        )
    return environment


class Reported(NamedTuple):
    case: Case
    created: bool
    # The timeline events this call wrote (none when an Idempotency-Key was replayed).
    events: tuple[CaseEvent, ...] = ()


def report_case(
    *,
    db: Session,
    reporter: User,
    new: NewCase,
    now: datetime,
    idempotency_key: str | None = None,
    rate_limits: aup.RateLimits = aup.NO_LIMITS,
    recorded_by: User | None = None,
) -> Reported:
    """Opens a case. A replayed Idempotency-Key returns the first case (``created`` false).

    ``rate_limits`` (Acceptable Use) are checked and counted with the case; ``recorded_by`` is
    the engineer who took the report on the reporter's behalf (a phone call).
    """
    if not reporter.is_customer or reporter.organisation is None:
        raise Forbidden("customers_only", "cases are reported by a customer's named contacts")
    package = reporter.organisation.package
    check_entitlement(package, new.channel)
    request_hash = _request_hash(new)
    # The checks and the rules run before the first write: on SQLite, outside the writers' line.
    with reads_before_writes(db):
        if idempotency_key is not None:
            existing = _replayed(db, reporter, idempotency_key, request_hash)
            if existing is not None:
                return Reported(existing, False)
        environment = own_environment(db, reporter, new.environment_id)
        decision = preview(package=package, environment=environment, new=new, now=now)
        clock = sla.start_clock(
            calendar_of(package), now, int(package.sla_targets[decision["severity"]])
        )
    try:
        # Only a keyed request has a race to recover from (below), so only it needs a savepoint.
        with db.begin_nested() if idempotency_key is not None else nullcontext():
            aup.admit(db=db, limits=rate_limits, user=reporter, now=now)
            case, reported = _insert_case(
                db, reporter, package, environment, new, now, decision, clock, recorded_by
            )
            if idempotency_key is not None:
                db.add(
                    IdempotencyKey(
                        user_id=reporter.id,
                        key=idempotency_key,
                        request_hash=request_hash,
                        case_id=case.id,
                        created_at=now,
                    )
                )
                db.flush()
    except IntegrityError:
        # A concurrent request with the same key won the race: answer with its case.
        if idempotency_key is None:
            raise
        existing = _replayed(db, reporter, idempotency_key, request_hash)
        if existing is None:
            raise
        return Reported(existing, False)
    return Reported(case, True, (reported,))


_CASES = cast(Table, Case.__table__)
# A new case's columns that a report does not set, as their defaults leave them.
_NEW_CASE: dict[str, Any] = {
    column.key: None for column in _CASES.columns if not column.primary_key
} | {"sla_breached": False, "version": 1}
_JSON_COLUMNS = tuple(column.key for column in _CASES.columns if isinstance(column.type, JSON))


@functools.cache
def _insert_case_statement(null_json: frozenset[str]) -> Any:
    """The INSERT of a new case whose JSON columns ``null_json`` are SQL NULL: written by the
    statement itself, as a bound None would be stored as JSON 'null'."""
    return insert(_CASES).values({name: null() for name in sorted(null_json)})


# Built once (its compiled form is then found without keying a new statement).
_INSERT_EVENT = insert(cast(Table, CaseEvent.__table__))


_T = TypeVar("_T")


def _loaded(db: Session, cls: type[_T], row: dict[str, Any]) -> _T:
    """An instance of ``cls`` for the row just inserted with every column as ``row`` holds them,
    made persistent in ``db`` as if loaded from that row: clean, tracked from here on.

    Built the way the ORM's loading builds one (the class manager's new instance, the columns
    put in its dict), not by the constructor, whose every attribute set fires the attribute
    events and records a change that ``make_transient_to_detached`` then forgets (for a case
    and its event, 1.42 against 1.32 ms of CPU a report, measured)."""
    instance: _T = class_mapper(cls).class_manager.new_instance()
    instance.__dict__.update(row)
    make_transient_to_detached(instance)
    db.add(instance)
    return instance


def _insert_case(
    db: Session,
    reporter: User,
    package: SupportPackage,
    environment: Environment,
    new: NewCase,
    now: datetime,
    decision: dict[str, Any],
    clock: sla.SlaClock,
    recorded_by: User | None = None,
) -> tuple[Case, CaseEvent]:
    values = dict(
        organisation_id=environment.organisation_id,
        package_id=package.id,
        reporter_id=reporter.id,
        environment_id=environment.id,
        channel=new.channel,
        title=new.title,
        description=new.description,
        impact_app_unavailable=new.impact.app_unavailable,
        impact_security_vulnerability=new.impact.security_vulnerability,
        impact_data_loss=new.impact.data_loss,
        impact_degraded=new.impact.degraded,
        breadth=new.breadth,
        end_users_blocked=new.end_users_blocked,
        severity=decision["severity"],
        customer_severity=decision["severity"],
        severity_reasons=decision["severity_reasons"],
        qualification=decision["qualification"]["status"],
        qualification_reasons=decision["qualification"]["reasons"],
        suggested_redirect=decision["qualification"]["suggested_redirect"],
        state="new",
        queue_group="waiting",
        queue_weight=package.queue_weight,
        reported_at=now,
        updated_at=now,
        state_changed_at=now,
        sla_target_seconds=clock.target_seconds,
        sla_clock_starts_at=clock.clock_starts_at,
        sla_warn_at=clock.warn_at,
        sla_due_at=clock.due_at,
        outcomes=[],
    )
    # A plain INSERT of every column, then the Case made persistent as if loaded from that row
    # (make_transient_to_detached + add: clean, tracked from here on): the unit of work's flush
    # (change tracking, dependency sort), or an ORM INSERT … RETURNING, cost several times the
    # statement itself for this one row.
    row = _NEW_CASE | values
    null_json = frozenset(name for name in _JSON_COLUMNS if row[name] is None)
    case_id = insert_row(
        db,
        _insert_case_statement(null_json),
        {name: value for name, value in row.items() if name not in null_json},
    )
    case = _loaded(db, Case, {"id": case_id, **row})
    for name, value in (
        ("organisation", reporter.organisation),
        ("package", package),
        ("environment", environment),
        ("reporter", reporter),
        ("owner", None),
    ):
        set_committed_value(case, name, value)
    reported = _event(
        db,
        case,
        reporter,
        now,
        "reported",
        data={
            "channel": new.channel,
            "severity": case.severity,
            "qualification": case.qualification,
        }
        | ({"recorded_by": recorded_by.email} if recorded_by is not None else {}),
    )
    return case, reported


def _event(
    db: Session,
    case: Case,
    actor: User | None,
    now: datetime,
    kind: str,
    *,
    message: str | None = None,
    data: dict[str, Any] | None = None,
    internal: bool = False,
) -> CaseEvent:
    # Notifications go to the outbox in this same transaction (imported here: no cycle).
    from critdesk.notification.service import pending_for

    # A plain INSERT, then the event persistent as if loaded (see _insert_case).
    row = {
        "case_id": case.id,
        "at": now,
        "actor_id": actor.id if actor else None,
        "kind": kind,
        "internal": internal,
        "message": message,
        "data": data or {},
        "notify": pending_for(case, kind),  # a JSON column whose None is SQL NULL
    }
    event = _loaded(db, CaseEvent, {"id": insert_row(db, _INSERT_EVENT, row), **row})
    set_committed_value(event, "actor", actor)
    audit.record(
        db=db,
        at=now,
        actor_id=actor.id if actor else None,
        action=f"case.{kind}",
        object_type="case",
        object_id=case.ref,
        organisation_id=case.organisation_id,
        data=_audit_data(message, data),
    )
    return event


def _audit_data(message: str | None, data: dict[str, Any] | None) -> dict[str, Any]:
    """What the audit trail keeps of a timeline event: its structured data and a digest of its
    free text, never the text itself. The trail is append-only, so a contact's words must not
    live there (a privacy erase scrubs the timeline); the digest still proves the timeline's
    text unchanged since the event."""
    if not message:
        return dict(data or {})
    digest = hashlib.sha256(message.encode()).hexdigest()
    return {"message_sha256": digest, "message_chars": len(message), **(data or {})}


def record_event(
    *,
    db: Session,
    case: Case,
    actor: User | None,
    now: datetime,
    kind: str,
    message: str | None = None,
    data: dict[str, Any] | None = None,
    internal: bool = False,
) -> CaseEvent:
    """A timeline event (and its audit record) for a change made by another concept's service."""
    case.updated_at = now
    return _event(db, case, actor, now, kind, message=message, data=data, internal=internal)


def with_relations(query: Select[Any]) -> Select[Any]:
    # An organisation joins its package, and a user their organisation, whenever they load
    # (lazy="joined" on their models); through a case nothing reads those, and joining them
    # made every case row carry four copies of a package (JSON decoded each time). Here they
    # load only if something reads them.
    return query.options(
        joinedload(Case.organisation).lazyload(Organisation.package),
        joinedload(Case.package),
        joinedload(Case.environment),
        joinedload(Case.reporter).lazyload(User.organisation),
        joinedload(Case.owner).lazyload(User.organisation),
    )


def load_case(db: Session, case_id: int) -> Case:
    case: Case | None = db.scalar(with_relations(select(Case).where(Case.id == case_id)))
    if case is None:
        raise NotFound("case")
    return case


def can_see_organisation(viewer: User, organisation: Organisation) -> bool:
    if viewer.is_customer:
        return viewer.organisation_id == organisation.id
    if viewer.role == "account_manager":
        return organisation.account_manager_id == viewer.id
    return True


def get_case(*, db: Session, viewer: User, ref: str) -> Case:
    """The case, if the viewer may see it; otherwise exactly as if it did not exist."""
    case = load_case(db, parse_ref(ref))
    if not can_see_organisation(viewer, case.organisation):
        raise NotFound("case")
    return case


def timeline(*, db: Session, viewer: User, case: Case) -> list[CaseEvent]:
    query = (
        select(CaseEvent)
        # The actor's organisation (joined on the User model) is not part of an event's view.
        .options(joinedload(CaseEvent.actor).lazyload(User.organisation))
        .where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.at, CaseEvent.id)
    )
    if viewer.is_customer:
        query = query.where(CaseEvent.internal.is_(False))
    return list(db.scalars(query))


@dataclass(frozen=True, slots=True)
class CaseFilters:
    state: str | None = None
    severity: str | None = None
    organisation_id: int | None = None
    environment_id: int | None = None
    channel: str | None = None
    qualification: str | None = None
    owner_id: int | None = None
    unassigned: bool = False
    open_only: bool = False
    text: str | None = None


def visible_cases(viewer: User) -> Select[Any]:
    """Cases the viewer may see: the tenant boundary every case query starts from."""
    query = select(Case)
    if viewer.is_customer:
        return query.where(Case.organisation_id == viewer.organisation_id)
    if viewer.role == "account_manager":
        managed = select(Organisation.id).where(Organisation.account_manager_id == viewer.id)
        return query.where(Case.organisation_id.in_(managed))
    return query


def list_cases(
    *, db: Session, viewer: User, filters: CaseFilters, limit: int, before_id: int | None
) -> tuple[list[Case], int | None]:
    """A page of cases, newest first; returns (cases, id to continue before or None)."""
    query = with_relations(visible_cases(viewer))
    conditions = {
        Case.state: filters.state,
        Case.severity: filters.severity,
        Case.organisation_id: filters.organisation_id,
        Case.environment_id: filters.environment_id,
        Case.channel: filters.channel,
        Case.qualification: filters.qualification,
        Case.owner_id: filters.owner_id,
    }
    for column, value in conditions.items():
        if value is not None:
            query = query.where(column == value)
    if filters.unassigned:
        query = query.where(Case.owner_id.is_(None))
    if filters.open_only:
        query = query.where(Case.state.in_(rules.OPEN_STATES))
    if filters.text:
        # ILIKE on the column itself (SQLite gets lower() on both sides): PostgreSQL has
        # statistics for the column, not for lower(title), and without them it guessed that
        # almost no case matches, so it read and sorted the whole table instead of walking the
        # newest cases until a page is full (100 ms instead of 3 ms at 100,000 cases).
        query = query.where(Case.title.ilike(f"%{filters.text}%"))
    if before_id is not None:
        query = query.where(Case.id < before_id)
    # The page size is written into the SQL when it runs, not bound: PostgreSQL plans a bound
    # LIMIT afresh on every execution (its generic plan assumes a tenth of the table), and
    # planning this join cost more than running it.
    size = bindparam("page_size", limit + 1, type_=Integer, literal_execute=True)
    cases = list(db.scalars(query.order_by(Case.id.desc()).limit(size)).unique())
    more = len(cases) > limit
    cases = cases[:limit]
    return cases, (cases[-1].id if more and cases else None)


# --- actions -------------------------------------------------------------------------------


def _require_handler(actor: User, action: str) -> None:
    if actor.role not in HANDLER_ROLES:
        raise Forbidden(
            "engineers_only", f"only engineers and leads may {action.replace('_', ' ')} a case"
        )


def _transition(case: Case, action: str) -> str:
    try:
        return rules.next_state(action, case.state, investigated=case.sla_met_at is not None)
    except rules.TransitionRefused as refused:
        raise Conflict("invalid_transition", refused.message) from refused


def change_state(
    db: Session,
    case: Case,
    actor: User | None,
    now: datetime,
    action: str,
    state: str,
    **data: Any,
) -> None:
    """Moves the case (already checked by rules.next_state) and writes the timeline event."""
    _move(db, case, actor, now, action, state, **data)


def _move(
    db: Session,
    case: Case,
    actor: User | None,
    now: datetime,
    action: str,
    state: str,
    **data: Any,
) -> None:
    before = case.state
    case.state = state
    case.updated_at = now
    if before != state:
        case.state_changed_at = now

    if state in rules.OPEN_STATES:
        if before not in rules.OPEN_STATES:
            # Back in the queue: at its package's weight as it is now (package.service).
            case.queue_weight = case.package.queue_weight
        case.queue_group = "waiting" if case.sla_met_at is None else "active"
    else:
        case.queue_group = None
    changes = {"state": [before, state]} if before != state else {}
    _event(db, case, actor, now, action, message=data.pop("message", None), data=changes | data)


def assign(*, db: Session, case: Case, engineer_email: str, actor: User, now: datetime) -> Case:
    _require_handler(actor, "assign")
    _transition(case, "assign")
    engineer = db.scalar(select(User).where(User.email == engineer_email.strip().lower()))
    if engineer is None or engineer.role not in HANDLER_ROLES or not engineer.active:
        raise Invalid("unknown_engineer", f"{engineer_email} is not an active engineer or lead")
    if actor.role == "engineer" and engineer.id != actor.id:
        raise Forbidden("leads_only", "only a lead may assign a case to someone else")
    before = case.owner.email if case.owner else None
    case.owner_id = engineer.id
    case.owner = engineer
    _move(db, case, actor, now, "assigned", case.state, owner=[before, engineer.email])
    return case


def start_investigation(*, db: Session, case: Case, actor: User, now: datetime) -> Case:
    """Stops the SLA clock: records when, how much business time it took, met or breached."""
    _require_handler(actor, "start_investigation")
    state = _transition(case, "start_investigation")
    taken = sla.business_seconds(calendar_of(case.package), case.reported_at, now)
    case.sla_met_at = now
    case.sla_business_seconds_taken = taken
    case.sla_breached = now > case.sla_due_at
    if case.owner_id is None:
        case.owner_id = actor.id
        case.owner = actor
    outcome = "breached" if case.sla_breached else "met"
    _move(
        db,
        case,
        actor,
        now,
        "investigation_started",
        state,
        sla={"status": outcome, "business_seconds_taken": taken},
    )
    return case


def assess(
    *, db: Session, case: Case, severity: str, reason: str, actor: User, now: datetime
) -> Case:
    """The engineers' severity, overriding the customer's answers; a running clock is re-set."""
    _require_handler(actor, "assess")
    _transition(case, "assess")
    if severity not in rules.SEVERITIES:
        raise Invalid("invalid_severity", f"severity must be one of {rules.SEVERITIES}")
    if not reason.strip():
        raise Invalid("reason_required", "say why the severity changes")
    before = case.severity
    case.severity = severity
    case.severity_reasons = [f"assessed by an engineer: {reason.strip()}"]
    if case.sla_met_at is None:
        clock = sla.start_clock(
            calendar_of(case.package),
            case.reported_at,
            int(case.package.sla_targets[severity]),
        )
        case.sla_target_seconds = clock.target_seconds
        case.sla_warn_at = clock.warn_at
        case.sla_due_at = clock.due_at
    _move(
        db,
        case,
        actor,
        now,
        "assessed",
        case.state,
        severity=[before, severity],
        reason=reason.strip(),
    )
    return case


REDIRECT_NEEDS = {
    "documentation": ("links", "point to the documentation pages (links)"),
    "third_party_support": ("third_party", "name the third party whose support to contact"),
}


def redirect(
    *,
    db: Session,
    case: Case,
    target: str,
    message: str,
    actor: User,
    now: datetime,
    links: list[str] | None = None,
    third_party: str | None = None,
) -> Case:
    """Not critical, or not the vendor's defect: send the customer to the right place."""
    _require_handler(actor, "redirect")
    state = _transition(case, "redirect")
    if target not in rules.REDIRECT_TARGETS:
        raise Invalid("invalid_redirect_target", f"target must be one of {rules.REDIRECT_TARGETS}")
    if not message.strip():
        raise Invalid("message_required", "tell the customer where to go and why")
    details = {"links": list(links or []), "third_party": (third_party or "").strip() or None}
    needed = REDIRECT_NEEDS.get(target)
    if needed is not None and not details[needed[0]]:
        raise Invalid(f"{needed[0]}_required", needed[1])
    case.redirect_target = target
    case.redirect_message = message.strip()
    case.redirect_details = details
    _close_open_requests(db, case, now)
    _move(
        db,
        case,
        actor,
        now,
        "redirected",
        state,
        target=target,
        message=message.strip(),
        **{k: v for k, v in details.items() if v},
    )
    return case


OUTCOME_TYPES = ("resolution_advised", "workaround_provided", "bug_reported")


def _checked_outcome(outcome: dict[str, Any]) -> dict[str, Any]:
    if outcome.get("type") not in OUTCOME_TYPES:
        raise Invalid("invalid_outcome", f"outcome type must be one of {OUTCOME_TYPES}")
    text = str(outcome.get("text", "")).strip()
    if not text:
        raise Invalid("outcome_text_required", "each outcome needs its text for the customer")
    link = str(outcome.get("link") or "").strip() or None
    if outcome["type"] == "bug_reported" and link is None:
        raise Invalid("bug_link_required", "a bug_reported outcome links the bug report")
    return {"type": outcome["type"], "text": text} | ({"link": link} if link else {})


def _close_open_requests(db: Session, case: Case, now: datetime) -> None:
    """Nothing stays waiting on the customer once the case is resolved or redirected."""
    db.execute(
        update(InfoRequest)
        .where(InfoRequest.case_id == case.id, InfoRequest.state == "open")
        .values(state="cancelled", cancelled_at=now)
    )


def resolve(
    *, db: Session, case: Case, outcomes: list[dict[str, Any]], actor: User, now: datetime
) -> Case:
    """Needs at least one outcome: advice, workaround(s), and/or a bug report."""
    _require_handler(actor, "resolve")
    state = _transition(case, "resolve")
    if not outcomes:
        raise Invalid("outcome_required", "resolving needs at least one outcome")
    case.outcomes = [_checked_outcome(o) for o in outcomes]
    case.resolved_at = now
    _close_open_requests(db, case, now)
    _move(db, case, actor, now, "resolved", state, outcomes=case.outcomes)
    return case


def _require_party(case: Case, actor: User, action: str) -> None:
    if actor.is_customer:
        if actor.organisation_id != case.organisation_id:
            raise NotFound("case")
        return
    if actor.role not in HANDLER_ROLES:
        raise Forbidden("engineers_only", f"only engineers, leads or the customer may {action}")


def close(*, db: Session, case: Case, actor: User, now: datetime) -> Case:
    _require_party(case, actor, "close")
    state = _transition(case, "close")
    case.closed_at = now
    _move(db, case, actor, now, "closed", state)
    return case


def confirm(*, db: Session, case: Case, actor: User, now: datetime) -> Case:
    """The customer confirms the resolution worked; the case closes."""
    if not actor.is_customer:
        raise Forbidden("customers_only", "the customer confirms a resolution")
    _require_party(case, actor, "confirm")
    state = _transition(case, "confirm")
    case.closed_at = now
    case.confirmed_at = now
    _move(db, case, actor, now, "resolution_confirmed", state)
    return case


def _ended_at(case: Case) -> datetime | None:
    return case.resolved_at or case.state_changed_at


def reopen(
    *,
    db: Session,
    case: Case,
    actor: User,
    now: datetime,
    reason: str = "",
    window: timedelta | None = None,
) -> Case:
    """Back to work; a customer may do so only within the window after resolution."""
    _require_party(case, actor, "reopen")
    state = _transition(case, "reopen")
    ended = _ended_at(case)
    if actor.is_customer and window is not None and ended is not None and now > ended + window:
        raise Conflict(
            "reopen_window_passed",
            f"{case.ref} ended more than {window.days} days ago; please report a new case "
            f"and mention {case.ref}",
        )
    case.closed_at = None
    case.resolved_at = None
    case.confirmed_at = None
    _move(db, case, actor, now, "reopened", state, message=reason.strip() or None)
    return case


def close_unconfirmed(*, db: Session, now: datetime, window: timedelta, limit: int = 500) -> int:
    """The sweep: resolved cases the customer neither confirmed nor reopened within the window
    close by themselves (claimed with a conditional update, so each closes once)."""
    due = db.scalars(
        select(Case.id)
        .where(Case.state == "resolved", Case.resolved_at <= now - window)
        .limit(limit)
    ).all()
    closed = 0
    for case_id in due:
        case = load_case(db, case_id)
        if case.state != "resolved":
            continue
        case.closed_at = now
        _move(
            db,
            case,
            None,
            now,
            "closed",
            "closed",
            message=f"Closed automatically {window.days} days after resolution.",
        )
        db.flush()
        closed += 1
    return closed


def record_root_cause(
    *,
    db: Session,
    case: Case,
    actor: User,
    category: str,
    summary: str,
    product_defect: bool,
    evidence: list[dict[str, Any]],
    now: datetime,
) -> Case:
    _require_handler(actor, "record the root cause of")
    _transition(case, "record_root_cause")
    if category not in rules.ROOT_CAUSE_CATEGORIES:
        raise Invalid("invalid_category", f"category must be one of {rules.ROOT_CAUSE_CATEGORIES}")
    checked = _checked_evidence(db, case, evidence)
    before = case.root_cause
    case.root_cause = {
        "category": category,
        "summary": summary.strip(),
        "product_defect": product_defect,
        "evidence": checked,
        "by": actor.email,
        "at": now.isoformat(),
    }
    _move(
        db,
        case,
        actor,
        now,
        "root_cause_recorded",
        case.state,
        category=[before["category"] if before else None, category],
        product_defect=product_defect,
        evidence=checked,
    )
    return case


def _checked_evidence(
    db: Session, case: Case, evidence: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Evidence links point at this case's own attachments and comments, nothing else."""
    from critdesk.attachment.models import Attachment

    tables: dict[str, tuple[type[Attachment] | type[CaseEvent], Any]] = {
        "attachment": (Attachment, Attachment.case_id),
        "comment": (CaseEvent, CaseEvent.case_id),
    }
    checked = []
    for item in evidence:
        kind, item_id = item.get("type"), item.get("id")
        if kind not in tables or not isinstance(item_id, int):
            raise Invalid("invalid_evidence", "evidence is {type: attachment|comment, id}")
        model, case_column = tables[kind]
        query = select(model.id).where(model.id == item_id, case_column == case.id)
        if model is CaseEvent:
            # Only the conversation counts as a comment, not any timeline event.
            query = query.where(CaseEvent.kind == "comment")
        found = db.scalar(query)
        if found is None:
            raise Invalid("unknown_evidence", f"{kind} {item_id} is not part of {case.ref}")
        checked.append({"type": kind, "id": item_id})
    return checked


def owner_filter(*, db: Session, viewer: User, owner: str | None) -> int | None:
    """``me`` or an engineer's e-mail as a user id; customers may not filter by owner."""
    if owner is None:
        return None
    if owner == "me":
        return viewer.id
    found = db.scalar(select(User.id).where(User.email == owner.strip().lower()))
    # An unknown owner matches nothing rather than everything.
    return found if found is not None else -1


def assignable_engineers(*, db: Session) -> list[User]:
    """The active engineers and leads a case may be assigned to (the lead's choice on a page)."""
    return list(
        db.scalars(
            select(User)
            .where(User.role.in_(sorted(HANDLER_ROLES)), User.active.is_(True))
            .order_by(User.name)
        )
    )
