"""Acceptable Use: rate limits kept in the database, and each organisation's redirect record.

Rate limits are checked and counted in the caller's transaction: an admitted action writes a
``rate_events`` row with the change it counts, and a refused one raises before anything is
written (the unit of work rolls back). The rows are the counters that every API process
shares. Two admissions for one organisation are serialised — by a transaction-scoped
advisory lock on PostgreSQL, by SQLite's single writer otherwise — so that concurrent
requests cannot both take the last slot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from critdesk.aup import rules
from critdesk.aup.models import RateEvent
from critdesk.auth.models import User
from critdesk.case.models import Case, CaseEvent
from critdesk.config import Settings
from critdesk.errors import Forbidden, NotFound, RateLimited
from critdesk.organisation.models import Organisation

# Used for every limit the settings leave unset (see Settings).
DEFAULT_LIMITS = {
    "rate_limit_cases_per_hour": 300,
    "rate_limit_user_cases_per_minute": 10,
    "rate_limit_user_cases_per_hour": 60,
    "rate_limit_uploads_per_minute": 120,
    "rate_limit_uploads_per_hour": 2000,
    "rate_limit_user_uploads_per_minute": 60,
    "rate_limit_user_uploads_per_hour": 1000,
}
# The first key of PostgreSQL's two-key advisory locks, one per action ("AUP" and a digit).
_LOCK_CLASS = {"case": 0x41555001, "upload": 0x41555002}
_STAFF_LOCK_CLASS = {"case": 0x41555011, "upload": 0x41555012}


class OverLimit(RateLimited):
    """A 429 whose details say which limit was reached."""

    def __init__(self, limit: rules.Limit, seconds: int) -> None:
        super().__init__(
            f"the limit of {limit.describe()} is reached; please retry in {seconds} s",
            retry_after=seconds,
        )
        self.details = {
            "action": limit.action,
            "scope": limit.scope,
            "limit": limit.count,
            "window_seconds": limit.window_seconds,
            "retry_after": seconds,
        }


@dataclass(frozen=True, slots=True)
class RateLimits:
    action: str
    limits: tuple[rules.Limit, ...]

    @property
    def enabled(self) -> bool:
        return any(limit.enabled for limit in self.limits)

    @property
    def longest_window_seconds(self) -> int:
        return max((limit.window_seconds for limit in self.limits), default=0)


NO_LIMITS = RateLimits("case", ())


def _setting(settings: Settings, name: str) -> int:
    value = getattr(settings, name)
    if value is not None:
        return int(value)
    return 0 if settings.rate_limit_cases_per_minute == 0 else DEFAULT_LIMITS[name]


def _limits(settings: Settings, action: str, names: Sequence[tuple[str, str, int]]) -> RateLimits:
    found = (
        rules.Limit(action, scope, _setting(settings, name), window)
        for scope, name, window in names
    )
    return RateLimits(action, tuple(limit for limit in found if limit.enabled))


def case_limits(settings: Settings) -> RateLimits:
    return _limits(
        settings,
        "case",
        [
            ("organisation", "rate_limit_cases_per_minute", 60),
            ("organisation", "rate_limit_cases_per_hour", 3600),
            ("user", "rate_limit_user_cases_per_minute", 60),
            ("user", "rate_limit_user_cases_per_hour", 3600),
        ],
    )


def upload_limits(settings: Settings) -> RateLimits:
    return _limits(
        settings,
        "upload",
        [
            ("organisation", "rate_limit_uploads_per_minute", 60),
            ("organisation", "rate_limit_uploads_per_hour", 3600),
            ("user", "rate_limit_user_uploads_per_minute", 60),
            ("user", "rate_limit_user_uploads_per_hour", 3600),
        ],
    )


def _nth_newest(db: Session, limit: rules.Limit, user: User, now: datetime) -> datetime | None:
    if limit.scope == "organisation":
        subject = RateEvent.organisation_id == user.organisation_id
    else:
        subject = RateEvent.user_id == user.id
    return db.scalar(
        select(RateEvent.at)
        .where(RateEvent.action == limit.action, subject, RateEvent.at > now - limit.window)
        .order_by(RateEvent.at.desc())
        .offset(limit.count - 1)
        .limit(1)
    )


def _applicable(limits: RateLimits, user: User) -> list[rules.Limit]:
    # Vendor staff belong to no organisation: only the per-user limits apply to them.
    return [
        limit
        for limit in limits.limits
        if limit.enabled and (limit.scope == "user" or user.organisation_id is not None)
    ]


def check(*, db: Session, limits: RateLimits, user: User, now: datetime) -> None:
    """Refuses (429) when the actor is over a limit now; writes nothing.

    Used before an upload's body is received, so that a refused file is never transferred;
    ``admit`` checks again, atomically, when the file is recorded.
    """
    worst: tuple[int, rules.Limit] | None = None
    for limit in _applicable(limits, user):
        seconds = rules.retry_after(limit, _nth_newest(db, limit, user, now), now)
        if seconds is not None and (worst is None or seconds > worst[0]):
            worst = (seconds, limit)
    if worst is not None:
        raise OverLimit(worst[1], worst[0])


def _lock(db: Session, limits: RateLimits, user: User) -> None:
    if db.get_bind().dialect.name != "postgresql":
        return  # SQLite: every writing transaction already holds the database's one write lock
    if user.organisation_id is not None:
        key = (_LOCK_CLASS[limits.action], user.organisation_id)
    else:
        key = (_STAFF_LOCK_CLASS[limits.action], user.id)
    db.execute(select(func.pg_advisory_xact_lock(*key)))


def admit(*, db: Session, limits: RateLimits, user: User, now: datetime) -> None:
    """Counts one action if every limit allows it; otherwise raises OverLimit (429)."""
    if not _applicable(limits, user):
        return
    _lock(db, limits, user)
    check(db=db, limits=limits, user=user, now=now)
    db.add(
        RateEvent(
            action=limits.action, organisation_id=user.organisation_id, user_id=user.id, at=now
        )
    )
    # The rows that no window counts any more go as new ones arrive (the organisation's, or a
    # staff member's own).
    owner = (
        RateEvent.organisation_id == user.organisation_id
        if user.organisation_id is not None
        else RateEvent.user_id == user.id
    )
    db.execute(
        delete(RateEvent).where(
            RateEvent.action == limits.action,
            owner,
            RateEvent.at <= now - timedelta(seconds=limits.longest_window_seconds),
        )
    )
    db.flush()


# --- the acceptable-use record --------------------------------------------------------------

RECORD_ROLES = frozenset({"lead", "admin"})


def _recorded_organisation(db: Session, viewer: User, organisation_id: int) -> Organisation:
    """The organisation, if the viewer may read its record: its account manager, leads and
    admins. A customer is refused its own (403) and never learns of another's (404)."""
    organisation = db.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("organisation")
    if viewer.is_customer:
        if viewer.organisation_id != organisation.id:
            raise NotFound("organisation")
        raise Forbidden(
            "account_manager_only",
            "the acceptable-use record is kept for your Account Manager",
        )
    if viewer.role == "account_manager":
        if organisation.account_manager_id != viewer.id:
            raise NotFound("organisation")
        return organisation
    if viewer.role not in RECORD_ROLES:
        raise Forbidden(
            "not_allowed", "only the account manager, leads and admins read this record"
        )
    return organisation


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime | None = None
    end: datetime | None = None

    def around(self, column: Any) -> list[Any]:
        conditions = []
        if self.start is not None:
            conditions.append(column >= self.start)
        if self.end is not None:
            conditions.append(column < self.end)
        return conditions


@dataclass(frozen=True, slots=True)
class RedirectRecord:
    organisation: Organisation
    cases_reported: int
    figures: dict[str, Any]
    items: list[tuple[CaseEvent, Case]]
    next_id: int | None


def redirect_record(
    *,
    db: Session,
    viewer: User,
    organisation_id: int,
    period: Period,
    limit: int,
    before_id: int | None,
) -> RedirectRecord:
    """The organisation's cases redirected as not critical (or not the vendor's defect):
    figures by target and month over the period, and a page of the redirects, newest first."""
    organisation = _recorded_organisation(db, viewer, organisation_id)
    redirects = (
        select(CaseEvent.id, CaseEvent.at, CaseEvent.case_id, CaseEvent.data)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            Case.organisation_id == organisation.id,
            CaseEvent.kind == "redirected",
            *period.around(CaseEvent.at),
        )
    )
    every = [
        rules.Redirect(at=at, target=str((data or {}).get("target", "unknown")), case_id=case_id)
        for _id, at, case_id, data in db.execute(redirects)
    ]
    reported = db.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.organisation_id == organisation.id, *period.around(Case.reported_at))
    )
    page = (
        select(CaseEvent, Case)
        .join(Case, Case.id == CaseEvent.case_id)
        .options(
            joinedload(CaseEvent.actor).lazyload(User.organisation),
            joinedload(Case.reporter).lazyload(User.organisation),
        )
        .where(
            Case.organisation_id == organisation.id,
            CaseEvent.kind == "redirected",
            *period.around(CaseEvent.at),
        )
    )
    if before_id is not None:
        page = page.where(CaseEvent.id < before_id)
    rows = [
        (event, case)
        for event, case in db.execute(page.order_by(CaseEvent.id.desc()).limit(limit + 1))
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    return RedirectRecord(
        organisation=organisation,
        cases_reported=int(reported or 0),
        figures=rules.redirect_figures(every, int(reported or 0)),
        items=rows,
        next_id=rows[-1][0].id if more and rows else None,
    )
