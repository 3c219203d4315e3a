"""Bug reports in external trackers: push a complete report to Jira or GitHub, and pull the
tracker's state back so that a fix recorded there reaches every linked case exactly as a
state change made in critdesk does.

Where a bug lives is kept in ``bug.external_refs`` (``{"jira": "CRIT-12", "github": 345}``);
under the reserved key ``"synced"`` the same dict keeps, per tracker, the state last seen
there. Sync acts only when the tracker's state *moved* since it was last seen, so a change
made in critdesk is never undone by a tracker that has not caught up — and a move the
critdesk rules refuse is reported, remembered, and tried again on later syncs (it may become
allowed once an engineer moves the bug), but never forced.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from critdesk.adapters.tracker import (
    BugExport,
    ExternalRef,
    ExternalState,
    Ref,
    Tracker,
    TrackerError,
)
from critdesk.audit import service as audit
from critdesk.auth.models import CUSTOMER_ROLES, User
from critdesk.bug import rules, service
from critdesk.bug.models import Bug, BugCase
from critdesk.case.models import Case
from critdesk.errors import Conflict, Invalid, NotFound
from critdesk.organisation.models import Environment, Organisation

SYNCED = "synced"
# A newly created issue starts untriaged; seeing it so later is no news.
CREATED_STATE = {"state": "new", "fix_version": None, "status": "created"}
UnitOfWork = Callable[[], AbstractContextManager[Session]]
# The bug row only: a bug joins its author, and PostgreSQL cannot lock an outer join's rows.
LOCK = {"of": Bug}


@dataclass(frozen=True, slots=True)
class SyncResult:
    key: str
    tracker: str
    ref: Ref
    # changed | unchanged (nothing new in the tracker) | in_step | refused | failed
    outcome: str
    state: str | None  # the bug's state in critdesk afterwards (None: not reached)
    tracker_state: str | None
    fix_version: str | None
    message: str


def tracker_refs(bug: Bug) -> dict[str, Ref]:
    """Tracker name → ref, without the bookkeeping kept beside them."""
    return {k: v for k, v in (bug.external_refs or {}).items() if k != SYNCED}


def bug_by_key(*, db: Session, key: str) -> Bug:
    """A bug for the system (CLI, jobs): no viewer, so no visibility rule applies."""
    bug = db.get(Bug, service.parse_key(key))
    if bug is None:
        raise NotFound("bug")
    return bug


def build_export(*, db: Session, bug: Bug) -> BugExport:
    """What a tracker receives: a submitted, complete report with every customer name,
    environment name and contact replaced, and a count of cases rather than the cases."""
    if bug.submitted_at is None:
        raise Conflict("not_submitted", f"{bug.key} is a draft: submit it before exporting it")
    missing = rules.missing_fields(service.report_fields(bug))
    if missing:
        raise Invalid("incomplete", f"{bug.key} lacks: {', '.join(missing)}", missing=missing)
    clean = scrubber(confidential_terms(db, bug))
    linked = db.scalar(select(func.count()).select_from(BugCase).where(BugCase.bug_id == bug.id))
    return BugExport(
        key=bug.key,
        title=clean(bug.title),
        description=clean(bug.description),
        steps_to_reproduce=clean(bug.steps_to_reproduce or ""),
        expected=clean(bug.expected or ""),
        actual=clean(bug.actual or ""),
        affected_versions=tuple(str(v) for v in bug.affected_versions),
        environment={k: clean(v) if isinstance(v, str) else v for k, v in bug.environment.items()},
        severity=bug.severity,
        product=bug.product,
        component=bug.component,
        signatures=tuple(clean(str(s)) for s in bug.signatures),
        public=bug.public,
        linked_cases=int(linked or 0),
        refs=tracker_refs(bug),
    )


def confidential_terms(db: Session, bug: Bug) -> list[tuple[str, str]]:
    """(term, placeholder): every organisation's name, and the environment names and
    contacts of the organisations whose cases are linked to this bug."""
    linked_orgs = (
        select(Case.organisation_id)
        .join(BugCase, BugCase.case_id == Case.id)
        .where(BugCase.bug_id == bug.id)
    )
    terms = [(name, "[customer]") for name in db.scalars(select(Organisation.name))]
    terms += [
        (name, "[environment]")
        for name in db.scalars(
            select(Environment.name).where(Environment.organisation_id.in_(linked_orgs))
        )
    ]
    contacts = db.execute(
        select(User.name, User.email).where(
            User.organisation_id.in_(linked_orgs), User.role.in_(sorted(CUSTOMER_ROLES))
        )
    )
    for name, email in contacts:
        terms += [(email, "[contact]"), (name, "[contact]")]
    return terms


def scrubber(terms: Sequence[tuple[str, str]]) -> Callable[[str], str]:
    """Replaces whole-word, case-insensitive occurrences; longest terms first, and terms
    shorter than three characters are skipped (they would hit ordinary words)."""
    table = {t.lower(): p for t, p in terms if len(t.strip()) >= 3}
    if not table:
        return lambda text: text
    ordered = sorted(table, key=len, reverse=True)
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in ordered), re.IGNORECASE)
    return lambda text: pattern.sub(lambda m: table[m.group(0).lower()], text)


def export_bug(
    *, db: Session, bug: Bug, tracker: Tracker, actor: User | None, now: datetime
) -> ExternalRef:
    """Creates the bug's issue in the tracker, or updates it; records where it lives.

    The bug row stays locked (PostgreSQL) until the caller commits, so two pushes of one
    bug cannot both create an issue: the second waits and then updates."""
    db.flush()  # a refresh would otherwise drop the caller's unflushed edits
    db.refresh(bug, with_for_update=LOCK)
    report = build_export(db=db, bug=bug)
    ref = tracker.push(report)
    refs = dict(bug.external_refs or {})
    refs[tracker.name] = ref.ref
    synced = dict(refs.get(SYNCED) or {})
    if ref.created or tracker.name not in synced:
        synced[tracker.name] = dict(CREATED_STATE)
    refs[SYNCED] = synced
    bug.external_refs = refs  # a new dict: the JSON column only notices assignment
    _record(
        db,
        bug,
        actor,
        now,
        "exported",
        tracker=tracker.name,
        ref=ref.ref,
        url=ref.url,
        created=ref.created,
    )
    return ref


def sync_from_tracker(*, db: Session, bug: Bug, tracker: Tracker, now: datetime) -> SyncResult:
    """Pulls one bug's state from the tracker and applies it (raises TrackerError)."""
    ref = tracker_refs(bug).get(tracker.name)
    if ref is None:
        raise Conflict("not_exported", f"{bug.key} has no issue in {tracker.name}")
    observed = tracker.pull(ref)
    db.flush()
    db.refresh(bug, with_for_update=LOCK)
    return apply_tracker_state(db=db, bug=bug, tracker=tracker.name, observed=observed, now=now)


def apply_tracker_state(
    *, db: Session, bug: Bug, tracker: str, observed: ExternalState, now: datetime
) -> SyncResult:
    """Moves the bug when the tracker's state moved since last seen (see the module doc)."""
    ref = tracker_refs(bug)[tracker]
    last = dict((bug.external_refs or {}).get(SYNCED, {}).get(tracker) or {})
    seen = {"state": observed.state, "fix_version": observed.fix_version, "status": observed.status}
    moved = (last.get("state"), last.get("fix_version")) != (seen["state"], seen["fix_version"])
    if not moved and not last.get("refused"):
        return _result(bug, tracker, ref, "unchanged", observed, "no change in the tracker")
    outcome, message = _move(db, bug, tracker, observed, now)
    if outcome == "refused":
        seen["refused"] = message
    _remember(bug, tracker, seen)
    if moved or outcome == "changed":
        _record(
            db,
            bug,
            None,
            now,
            "tracker_pulled",
            tracker=tracker,
            ref=ref,
            status=observed.status,
            state=observed.state,
            fix_version=observed.fix_version,
            outcome=outcome,
            message=message,
        )
    return _result(bug, tracker, ref, outcome, observed, message)


def _move(
    db: Session, bug: Bug, tracker: str, observed: ExternalState, now: datetime
) -> tuple[str, str]:
    if observed.state == bug.state:
        return "in_step", f"{tracker} agrees: {bug.state}"
    before = bug.state
    try:
        service.change_state(
            db=db,
            bug=bug,
            actor=None,
            state=observed.state,
            now=now,
            fix_version=observed.fix_version,
        )
    except (Conflict, Invalid) as refused:
        return "refused", (
            f"{tracker} says {observed.status} ({observed.state}) but critdesk refuses: "
            f"{refused.message}"
        )
    return "changed", f"{before} → {bug.state} because {tracker} says {observed.status}"


def _remember(bug: Bug, tracker: str, seen: dict[str, Any]) -> None:
    refs = dict(bug.external_refs or {})
    refs[SYNCED] = dict(refs.get(SYNCED) or {}) | {tracker: seen}
    bug.external_refs = refs


def tracked(tracker: str) -> Any:
    """Bugs with an issue in that tracker (the JSON key is present)."""
    if tracker == SYNCED:
        raise ValueError(f"{SYNCED!r} is not a tracker name")
    return select(Bug).where(Bug.external_refs[tracker].as_string().is_not(None)).order_by(Bug.id)


def sync_all(*, db: Session, tracker: Tracker, now: datetime) -> list[SyncResult]:
    """Every bug with an issue in the tracker, in one transaction. The transaction stays
    open across the HTTP calls, so the periodic job uses :func:`sync_all_in_units`."""
    results = []
    for bug in db.scalars(tracked(tracker.name).with_for_update(of=Bug)).all():
        try:
            results.append(sync_from_tracker(db=db, bug=bug, tracker=tracker, now=now))
        except TrackerError as failure:
            results.append(_failed(bug.key, tracker.name, tracker_refs(bug)[tracker.name], failure))
    return results


def sync_all_in_units(
    *, units: UnitOfWork, tracker: Tracker, now: datetime, keys: Sequence[str] = ()
) -> list[SyncResult]:
    """What the periodic job and the CLI call: lists the bugs in one short unit of work,
    pulls each with no transaction open (an HTTP call must not hold SQLite's write lock),
    then applies each bug in its own unit, so one failure costs only that bug."""
    with units() as db:
        query = tracked(tracker.name)
        if keys:
            query = query.where(Bug.id.in_([service.parse_key(k) for k in keys]))
        targets = [(b.id, b.key, tracker_refs(b)[tracker.name]) for b in db.scalars(query)]
    results = []
    for bug_id, key, ref in targets:
        try:
            observed = tracker.pull(ref)
        except TrackerError as failure:
            results.append(_failed(key, tracker.name, ref, failure))
            continue
        with units() as db:
            bug = db.get(Bug, bug_id, with_for_update=LOCK, populate_existing=True)
            assert bug is not None  # bugs are never deleted
            results.append(
                apply_tracker_state(
                    db=db, bug=bug, tracker=tracker.name, observed=observed, now=now
                )
            )
    return results


def _failed(key: str, tracker: str, ref: Ref, failure: TrackerError) -> SyncResult:
    return SyncResult(key, tracker, ref, "failed", None, None, None, str(failure))


def _result(
    bug: Bug, tracker: str, ref: Ref, outcome: str, observed: ExternalState, message: str
) -> SyncResult:
    return SyncResult(
        bug.key, tracker, ref, outcome, bug.state, observed.state, observed.fix_version, message
    )


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
