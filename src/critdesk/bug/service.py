"""Bug report use cases: draft, submit when complete, link cases, move through states, and tell
every linked case when the fix ships."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from critdesk.audit import service as audit
from critdesk.auth.models import User
from critdesk.bug import rules
from critdesk.bug.models import BUG_KEY_PREFIX, Bug, BugCase, BugFixPolicy
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.errors import Conflict, Forbidden, Invalid, NotFound
from critdesk.logs import service as log_service
from critdesk.notification import service as notifications

EDITABLE = (
    "product",
    "component",
    "affected_versions",
    "title",
    "description",
    "steps_to_reproduce",
    "expected",
    "actual",
    "environment",
    "severity",
    "public",
    "workaround",
    "signatures",
)
KEY_PATTERN = re.compile(rf"^{BUG_KEY_PREFIX}(\d{{1,12}})$", re.IGNORECASE)


def parse_key(key: str) -> int:
    match = KEY_PATTERN.match(key.strip())
    if match is None:
        raise NotFound("bug")
    return int(match.group(1))


def _require_engineer(actor: User) -> None:
    if actor.role not in cases.HANDLER_ROLES:
        raise Forbidden("engineers_only", "only engineers and leads write bug reports")


def policy(*, db: Session) -> list[rules.FixPolicy]:
    rows = db.scalars(select(BugFixPolicy).order_by(BugFixPolicy.severity)).all()
    if not rows:
        return list(rules.DEFAULT_POLICY)
    return [rules.FixPolicy(r.severity, r.target, r.days, r.description) for r in rows]


def set_policy(
    *, db: Session, actor: User, entries: list[rules.FixPolicy], now: datetime
) -> list[rules.FixPolicy]:
    if actor.role not in ("admin", "lead"):
        raise Forbidden("leads_only", "only leads and admins set the Bug Fix Policy")
    if sorted(e.severity for e in entries) != ["S1", "S2", "S3", "S4"]:
        raise Invalid("invalid_policy", "the policy sets one target for each of S1..S4")
    before = [policy_dict(p) for p in policy(db=db)]
    db.execute(delete(BugFixPolicy))
    for entry in entries:
        db.add(
            BugFixPolicy(
                severity=entry.severity,
                target=entry.target,
                days=entry.days,
                description=entry.description,
            )
        )
    audit.record(
        db=db,
        at=now,
        actor_id=actor.id,
        action="bug_fix_policy.updated",
        object_type="bug_fix_policy",
        object_id="policy",
        data={"before": before, "after": [policy_dict(e) for e in entries]},
    )
    db.flush()
    return entries


def policy_dict(entry: rules.FixPolicy) -> dict[str, Any]:

    return {
        "severity": entry.severity,
        "target": entry.target,
        "days": entry.days,
        "description": entry.description,
    }


def report_fields(bug: Bug) -> dict[str, Any]:
    return {name: getattr(bug, name) for name in EDITABLE}


def _record(
    db: Session, bug: Bug, actor: User | None, now: datetime, action: str, **data: Any
) -> None:
    audit.record(
        db=db,
        at=now,
        actor_id=actor.id if actor else None,
        action=f"bug.{action}",
        object_type="bug",
        object_id=bug.key,
        data=data,
    )


def create_bug(
    *, db: Session, actor: User, fields: dict[str, Any], submit: bool, now: datetime
) -> Bug:
    """A draft, or a submitted report when ``submit`` and complete (422 lists what is missing)."""
    _require_engineer(actor)
    bug = Bug(
        **{name: fields.get(name) for name in EDITABLE if name in fields},
        state="new",
        external_refs={},
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        state_changed_at=now,
    )
    bug.affected_versions = list(fields.get("affected_versions") or [])
    bug.environment = dict(fields.get("environment") or {})
    bug.signatures = list(fields.get("signatures") or [])
    bug.public = bool(fields.get("public", False))
    bug.created_by = actor
    if submit:
        _require_complete(bug)
    db.add(bug)
    db.flush()
    if submit:
        _submit(db, bug, now)
    _record(db, bug, actor, now, "created", submitted=submit, title=bug.title)
    return bug


def _require_complete(bug: Bug) -> None:
    missing = rules.missing_fields(report_fields(bug))
    if missing:
        raise Invalid(
            "incomplete",
            "the report cannot be submitted without: " + ", ".join(missing),
            missing=missing,
        )


def _submit(db: Session, bug: Bug, now: datetime) -> None:
    bug.submitted_at = now
    target = rules.fix_target(
        policy(db=db),
        severity=bug.severity,
        submitted_at=now,
        state=bug.state,
        fixed_at=None,
        now=now,
    )
    bug.fix_target_at = target.due_at


def submit_bug(*, db: Session, bug: Bug, actor: User, now: datetime) -> Bug:
    _require_engineer(actor)
    if bug.submitted_at is not None:
        raise Conflict("already_submitted", f"{bug.key} was submitted already")
    _require_complete(bug)
    _submit(db, bug, now)
    bug.updated_at = now
    _record(db, bug, actor, now, "submitted")
    return bug


def update_bug(
    *, db: Session, bug: Bug, actor: User, changes: dict[str, Any], now: datetime
) -> Bug:
    _require_engineer(actor)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid("not_editable", f"cannot edit {sorted(unknown)} here")
    before = {k: getattr(bug, k) for k in changes}
    for name, value in changes.items():
        setattr(bug, name, value)
    if bug.submitted_at is not None:
        _require_complete(bug)
    bug.updated_at = now
    _record(db, bug, actor, now, "updated", before=before, after=changes)
    return bug


def get_bug(*, db: Session, viewer: User, key: str) -> Bug:
    """A bug the viewer may see: staff any; customers public bugs and bugs on their cases."""
    bug = db.get(Bug, parse_key(key))
    if bug is None or not may_see(db, viewer, bug):
        raise NotFound("bug")
    return bug


def may_see(db: Session, viewer: User, bug: Bug) -> bool:
    if not viewer.is_customer:
        return True
    if bug.is_public:
        return True
    linked = db.scalar(
        select(func.count())
        .select_from(BugCase)
        .join(Case, Case.id == BugCase.case_id)
        .where(BugCase.bug_id == bug.id, Case.organisation_id == viewer.organisation_id)
    )
    return bool(linked)


def visible_bugs(viewer: User) -> Select[Any]:
    query = select(Bug)
    if viewer.is_customer:
        own_links = (
            select(BugCase.bug_id)
            .join(Case, Case.id == BugCase.case_id)
            .where(Case.organisation_id == viewer.organisation_id)
        )
        query = query.where(or_(Bug.is_public, Bug.id.in_(own_links)))
    return query


@dataclass(frozen=True, slots=True)
class BugFilters:
    state: str | None = None
    severity: str | None = None
    product: str | None = None
    text: str | None = None


def list_bugs(
    *, db: Session, viewer: User, filters: BugFilters, limit: int, before_id: int | None
) -> tuple[list[Bug], int | None]:
    query = visible_bugs(viewer)
    if filters.state:
        query = query.where(Bug.state == filters.state)
    if filters.severity:
        query = query.where(Bug.severity == filters.severity)
    if filters.product:
        query = query.where(Bug.product == filters.product)
    if filters.text:
        query = query.where(func.lower(Bug.title).like(f"%{filters.text.lower()}%"))
    if before_id is not None:
        query = query.where(Bug.id < before_id)
    rows = list(db.scalars(query.order_by(Bug.id.desc()).limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def linked_cases(*, db: Session, bug: Bug, viewer: User) -> list[Case]:
    """The cases on a bug — for a customer, only its own organisation's, never others'."""
    query = (
        cases.with_relations(select(Case))
        .join(BugCase, BugCase.case_id == Case.id)
        .where(BugCase.bug_id == bug.id)
        .order_by(Case.id)
    )
    if viewer.is_customer:
        query = query.where(Case.organisation_id == viewer.organisation_id)
    elif viewer.role == "account_manager":
        query = cases.visible_cases(viewer).where(
            Case.id.in_(select(BugCase.case_id).where(BugCase.bug_id == bug.id))
        )
        query = cases.with_relations(query).order_by(Case.id)
    return list(db.scalars(query).unique())


def bugs_of_case(*, db: Session, case: Case, viewer: User) -> list[Bug]:
    query = (
        select(Bug)
        .join(BugCase, BugCase.bug_id == Bug.id)
        .where(BugCase.case_id == case.id)
        .order_by(Bug.id)
    )
    return list(db.scalars(query).unique())


def link_case(*, db: Session, bug: Bug, case: Case, actor: User, now: datetime) -> BugCase:
    _require_engineer(actor)
    exists = db.scalar(select(BugCase).where(BugCase.bug_id == bug.id, BugCase.case_id == case.id))
    if exists is not None:
        raise Conflict("already_linked", f"{case.ref} is already linked to {bug.key}")
    link = BugCase(bug_id=bug.id, case_id=case.id, linked_by_id=actor.id, linked_at=now)
    db.add(link)
    db.flush()
    cases.record_event(
        db=db,
        case=case,
        actor=actor,
        now=now,
        kind="bug_linked",
        data={"bug": bug.key, "state": bug.state, "fix_version": bug.fix_version},
    )
    _record(db, bug, actor, now, "case_linked", case=case.ref)
    return link


def unlink_case(*, db: Session, bug: Bug, case: Case, actor: User, now: datetime) -> None:
    _require_engineer(actor)
    link = db.scalar(select(BugCase).where(BugCase.bug_id == bug.id, BugCase.case_id == case.id))
    if link is None:
        raise NotFound("link")
    db.delete(link)
    cases.record_event(
        db=db, case=case, actor=actor, now=now, kind="bug_unlinked", data={"bug": bug.key}
    )
    _record(db, bug, actor, now, "case_unlinked", case=case.ref)


def change_state(
    *,
    db: Session,
    bug: Bug,
    actor: User | None,
    state: str,
    now: datetime,
    fix_version: str | None = None,
    duplicate_of: str | None = None,
) -> Bug:
    """Moves the bug; fixed/released tell every linked case the fix version."""
    if actor is not None:
        _require_engineer(actor)
    original = db.get(Bug, parse_key(duplicate_of)) if duplicate_of else None
    if duplicate_of and (original is None or original.id == bug.id):
        raise Invalid("unknown_bug", "duplicate_of must name another existing bug")
    try:
        rules.check_transition(
            bug.state,
            state,
            fix_version=fix_version or bug.fix_version,
            duplicate_of=original.id if original else None,
        )
    except rules.BugTransitionRefused as refused:
        raise Conflict("invalid_transition", str(refused)) from refused
    before = bug.state
    bug.state = state
    bug.state_changed_at = bug.updated_at = now
    if fix_version:
        bug.fix_version = fix_version.strip()
    if original is not None:
        bug.duplicate_of_id = original.id
    if state == "fixed" or (state == "released" and bug.fixed_at is None):
        bug.fixed_at = now
    _record(
        db, bug, actor, now, "state_changed", state=[before, state], fix_version=bug.fix_version
    )
    if state in rules.CLOSING_STATES:
        _tell_linked_cases(db, bug, actor, now)
    notifications.on_bug_state_change(db=db, bug=bug, before=before, actor=actor, now=now)
    return bug


def _tell_linked_cases(db: Session, bug: Bug, actor: User | None, now: datetime) -> None:
    verb = "fixed" if bug.state == "fixed" else "released"
    for case in db.scalars(
        select(Case).join(BugCase, BugCase.case_id == Case.id).where(BugCase.bug_id == bug.id)
    ):
        cases.record_event(
            db=db,
            case=case,
            actor=actor,
            now=now,
            kind=f"bug_{verb}",
            message=f"{bug.key} is {verb} in version {bug.fix_version}.",
            data={"bug": bug.key, "fix_version": bug.fix_version, "state": bug.state},
        )


def draft_from_case(*, db: Session, case: Case, viewer: User) -> dict[str, Any]:
    """Everything the case knows, as a bug report to complete."""
    _require_engineer(viewer)
    env = case.environment
    root = case.root_cause or {}
    steps = [o["text"] for o in case.outcomes or [] if o.get("type") == "workaround_provided"]
    return {
        "product": "Platform",
        "component": None,
        "affected_versions": [env.product_version] if env.product_version else [],
        "title": case.title,
        "description": "\n\n".join(
            part for part in (case.description, root.get("summary")) if part
        ),
        "steps_to_reproduce": None,
        "expected": None,
        "actual": case.description,
        "environment": {
            "deployment_type": env.type,
            "product_version": env.product_version,
            "production": env.production,
        },
        "severity": case.severity,
        "public": False,
        "workaround": steps[0] if steps else None,
        "signatures": log_service.top_signatures(db, case),
        "case": case.ref,
    }


def active_target(db: Session, bug: Bug, now: datetime) -> rules.FixTarget:
    return rules.fix_target(
        policy(db=db),
        severity=bug.severity,
        submitted_at=bug.submitted_at,
        state=bug.state,
        fixed_at=bug.fixed_at,
        now=now,
    )
