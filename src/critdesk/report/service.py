"""Report queries: every figure is aggregated in SQL over the cases the caller may see.

One function per report; each reads the cases through the same conditions — the caller's
reach (every organisation, the ones an account manager manages, or the customer admin's own)
and the filters (period reported, package, organisation, severity) — so that no report can
show more than another. Percentiles come from PostgreSQL's ``percentile_cont``; SQLite has no
such aggregate, so there one column is read in order and ``rules.percentile`` (the same
interpolation) computes them. Names (organisations, packages, engineers, bugs) are looked up
once per report for the ids the aggregate returned, not joined into it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from critdesk.auth.models import User
from critdesk.bug.models import Bug, BugCase, format_key
from critdesk.case.models import Case, format_ref
from critdesk.case.rules import REDIRECT_TARGETS, ROOT_CAUSE_CATEGORIES
from critdesk.errors import Forbidden, Invalid, NotFound
from critdesk.organisation.models import Organisation
from critdesk.package.models import SupportPackage
from critdesk.report import rules
from critdesk.report.rules import ReportSpec

BUGS_DEFAULT_LIMIT = 20
MAX_FILTER_CHARS = 200


@dataclass(frozen=True, slots=True)
class Query:
    """The filters as the caller gave them (``end`` is exclusive)."""

    start: datetime | None = None
    end: datetime | None = None
    package: str | None = None
    organisation: str | None = None
    severity: str | None = None
    limit: int = BUGS_DEFAULT_LIMIT


@dataclass(frozen=True, slots=True)
class Scope:
    """How far the caller sees: ``organisation_ids`` None means every organisation."""

    reach: str
    organisation_ids: tuple[int, ...] | None


EVERYTHING = Scope("all", None)


@dataclass(slots=True)
class Report:
    spec: ReportSpec
    scope: Scope
    query: Query
    organisation: str | None
    package: str | None
    generated_at: datetime
    rows: list[dict[str, Any]]
    summary: dict[str, Any] | None = None


@dataclass(slots=True)
class _Context:
    db: Session
    where: list[ColumnElement[bool]]
    now: datetime
    query: Query
    postgres: bool
    summary: dict[str, Any] | None = field(default=None)


def spec_named(name: str) -> ReportSpec:
    spec = rules.SPECS.get(name)
    if spec is None:
        raise NotFound("report")
    return spec


def _reach(viewer: User, spec: ReportSpec) -> str:
    try:
        return rules.reach(viewer.role, spec)
    except rules.NotAllowed as refused:
        raise Forbidden(refused.code, refused.message) from refused


def scope_of(*, db: Session, viewer: User, spec: ReportSpec) -> Scope:
    """The caller's reach in this report, or a 403 saying why not."""
    reach = _reach(viewer, spec)
    if reach == "own":
        return Scope(reach, (viewer.organisation_id,) if viewer.organisation_id else ())
    if reach == "managed":
        managed = db.scalars(
            select(Organisation.id)
            .where(Organisation.account_manager_id == viewer.id)
            .order_by(Organisation.id)
        )
        return Scope(reach, tuple(managed))
    return EVERYTHING


def build(*, db: Session, viewer: User, name: str, query: Query, now: datetime) -> Report:
    """The named report as the viewer may see it."""
    spec = spec_named(name)
    return build_for(
        db=db, scope=scope_of(db=db, viewer=viewer, spec=spec), spec=spec, query=query, now=now
    )


def build_many(
    *, db: Session, viewer: User, names: Sequence[str], query: Query, now: datetime
) -> dict[str, Report]:
    """Several reports for one page: each is still checked for the viewer's role, but the
    viewer's scope (an account manager's organisations) is looked up once per reach."""
    scopes: dict[str, Scope] = {}
    reports = {}
    for name in names:
        spec = spec_named(name)
        reach = _reach(viewer, spec)
        if reach not in scopes:
            scopes[reach] = scope_of(db=db, viewer=viewer, spec=spec)
        reports[name] = build_for(db=db, scope=scopes[reach], spec=spec, query=query, now=now)
    return reports


def build_for(
    *, db: Session, scope: Scope, spec: ReportSpec, query: Query, now: datetime
) -> Report:
    """The report over a scope already decided (the CLI reports over everything)."""
    organisation = _organisation(db, scope, query.organisation)
    package = _package(db, query.package)
    if query.severity is not None and query.severity not in rules.SEVERITIES:
        raise Invalid("invalid_severity", f"severity must be one of {', '.join(rules.SEVERITIES)}")
    context = _Context(
        db=db,
        where=_conditions(scope, query, organisation, package),
        now=now,
        query=query,
        postgres=db.get_bind().dialect.name == "postgresql",
    )
    rows = BUILDERS[spec.name](context)
    return Report(
        spec=spec,
        scope=scope,
        query=query,
        organisation=organisation.name if organisation else None,
        package=package.name if package else None,
        generated_at=now,
        rows=rows,
        summary=context.summary,
    )


def filter_choices(*, db: Session, scope: Scope) -> dict[str, list[tuple[str, str]]]:
    """What the filter form offers: (value, label) of the packages and the organisations."""
    packages = db.execute(
        select(SupportPackage.code, SupportPackage.name)
        .where(SupportPackage.desk_access.is_(True))
        .order_by(SupportPackage.queue_weight, SupportPackage.name)
    )
    organisations = select(Organisation.id, Organisation.name).order_by(Organisation.name)
    if scope.organisation_ids is not None:
        organisations = organisations.where(Organisation.id.in_(scope.organisation_ids))
    return {
        "packages": [(code, name) for code, name in packages],
        "organisations": [(str(i), name) for i, name in db.execute(organisations)],
    }


# --- filters ------------------------------------------------------------------------------------


def _organisation(db: Session, scope: Scope, text: str | None) -> Organisation | None:
    """The organisation filter by id or exact name; one outside the caller's reach reads
    exactly like an unknown one (404)."""
    if text is None or not text.strip():
        return None
    value = text.strip()[:MAX_FILTER_CHARS]
    if (
        value.isascii() and value.isdigit() and int(value) < 2**31
    ):  # ids are 32-bit integers on PostgreSQL
        found = db.get(Organisation, int(value))
    else:
        found = db.scalar(
            select(Organisation).where(func.lower(Organisation.name) == value.lower())
        )
    if found is None or (
        scope.organisation_ids is not None and found.id not in scope.organisation_ids
    ):
        raise NotFound("organisation")
    return found


def _package(db: Session, text: str | None) -> SupportPackage | None:
    """The package filter by code or name (the catalogue is public)."""
    if text is None or not text.strip():
        return None
    value = text.strip()[:MAX_FILTER_CHARS].lower()
    found = db.scalar(
        select(SupportPackage).where(
            or_(func.lower(SupportPackage.code) == value, func.lower(SupportPackage.name) == value)
        )
    )
    if found is None:
        codes = ", ".join(db.scalars(select(SupportPackage.code).order_by(SupportPackage.code)))
        raise Invalid("unknown_package", f"package must be one of: {codes}")
    return found


def _conditions(
    scope: Scope,
    query: Query,
    organisation: Organisation | None,
    package: SupportPackage | None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if scope.organisation_ids is not None:
        where.append(Case.organisation_id.in_(scope.organisation_ids))
    if query.start is not None:
        where.append(Case.reported_at >= query.start)
    if query.end is not None:
        where.append(Case.reported_at < query.end)
    if organisation is not None:
        where.append(Case.organisation_id == organisation.id)
    if package is not None:
        where.append(Case.package_id == package.id)
    if query.severity is not None:
        where.append(Case.severity == query.severity)
    return where


# --- shared expressions -------------------------------------------------------------------------


def _count(condition: ColumnElement[bool] | None = None) -> Any:
    return func.count() if condition is None else func.count().filter(condition)


def _outcomes(now: datetime) -> tuple[Any, Any, Any]:
    """Counts of met, breached and running clocks (rules.sla_outcome, in SQL)."""
    started = Case.sla_met_at.is_not(None)
    waiting = Case.sla_met_at.is_(None)
    met = _count(and_(started, Case.sla_met_at <= Case.sla_due_at))
    breached = _count(
        or_(
            and_(started, Case.sla_met_at > Case.sla_due_at),
            and_(waiting, Case.sla_due_at <= now),
        )
    )
    running = _count(and_(waiting, Case.sla_due_at > now))
    return met, breached, running


# A clock has an outcome once investigated, or while the case is new (rules' module notes).
HAS_SLA_OUTCOME = or_(Case.sla_met_at.is_not(None), Case.state == "new")
# Sent elsewhere and not brought back: redirected (or closed after a redirect), not resolved
# since. A case reopened after a redirect and then resolved counts as resolved.
REDIRECTED = and_(
    Case.redirect_target.is_not(None),
    Case.resolved_at.is_(None),
    Case.state.in_(("redirected", "closed")),
)


def _month(context: _Context) -> Any:
    """The month a case was reported in, UTC: a timestamp on PostgreSQL (``date_trunc`` costs
    a fifth of ``to_char`` over a million rows), text on SQLite; ``_month_text`` reads both."""
    if context.postgres:
        return func.date_trunc("month", func.timezone("UTC", Case.reported_at))
    return func.strftime("%Y-%m", Case.reported_at)


def _month_text(value: Any) -> str:
    if isinstance(value, datetime):
        return f"{value.year:04d}-{value.month:02d}"
    return str(value)


def _names(db: Session, model: Any, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return dict(db.execute(select(model.id, model.name).where(model.id.in_(wanted))).all())


# --- the reports --------------------------------------------------------------------------------


def _sla(context: _Context) -> list[dict[str, Any]]:
    found = context.db.execute(
        select(Case.organisation_id, Case.package_id, Case.severity, *_outcomes(context.now))
        .where(*context.where, HAS_SLA_OUTCOME)
        .group_by(Case.organisation_id, Case.package_id, Case.severity)
    ).all()
    organisations = _names(context.db, Organisation, (r[0] for r in found))
    packages = _names(context.db, SupportPackage, (r[1] for r in found))
    rows = [
        {
            "organisation": organisations.get(org_id, f"#{org_id}"),
            "package": packages.get(package_id, f"#{package_id}"),
            "severity": severity,
        }
        | rules.sla_figures(met, breached, running)
        for org_id, package_id, severity, met, breached, running in found
    ]
    return sorted(rows, key=lambda r: (r["organisation"], r["package"], r["severity"]))


def _sla_monthly(context: _Context) -> list[dict[str, Any]]:
    month = _month(context).label("month")
    found = context.db.execute(
        select(month, Case.package_id, *_outcomes(context.now))
        .where(*context.where, HAS_SLA_OUTCOME)
        .group_by(month, Case.package_id)
    ).all()
    packages = _names(context.db, SupportPackage, (r[1] for r in found))
    rows = [
        {"month": _month_text(month_text), "package": packages.get(package_id, f"#{package_id}")}
        | rules.sla_figures(met, breached, running)
        for month_text, package_id, met, breached, running in found
    ]
    return sorted(rows, key=lambda r: (r["month"], r["package"]))


def _severities(context: _Context) -> tuple[str, ...]:
    if context.query.severity is not None:
        return (context.query.severity,)
    return rules.SEVERITIES


def _distribution_rows(
    context: _Context, value: Any, condition: ColumnElement[bool], pairs: Any = None
) -> list[dict[str, Any]]:
    """Per severity: count, min, quartiles, median, p90, max of ``value`` (seconds)."""
    by_severity: dict[str, dict[str, Any]] = {}
    if context.postgres:
        figures = [
            func.count(value),
            func.min(value),
            *(func.percentile_cont(share).within_group(value) for _, share in rules.PERCENTILES),
            func.max(value),
        ]
        found = context.db.execute(
            select(Case.severity, *figures).where(*context.where, condition).group_by(Case.severity)
        )
        names = rules.DISTRIBUTION_COLUMNS
        for severity, *values in found:
            by_severity[severity] = {"cases": int(values[0])} | {
                name: rules.rounded(v) for name, v in zip(names[1:], values[1:], strict=True)
            }
    else:
        grouped: dict[str, list[float]] = defaultdict(list)
        found = context.db.execute(
            select(Case.severity, *(pairs or (value,)))
            .where(*context.where, condition)
            .order_by(Case.severity)
        )
        for severity, *values in found:
            grouped[severity].append(_seconds(values))
        by_severity = {s: rules.distribution(v) for s, v in grouped.items()}
    empty = rules.distribution(())
    return [{"severity": s} | by_severity.get(s, empty) for s in _severities(context)]


def _seconds(values: list[Any]) -> float:
    if len(values) == 1:
        return float(values[0])
    later, earlier = values
    return float((later - earlier).total_seconds())


def _time_to_investigate(context: _Context) -> list[dict[str, Any]]:
    taken = Case.sla_business_seconds_taken
    return _distribution_rows(context, taken, taken.is_not(None))


def _time_to_resolution(context: _Context) -> list[dict[str, Any]]:
    # date_part gives a double; EXTRACT a numeric, which costs several times more to sum up.
    elapsed = func.date_part("epoch", Case.resolved_at - Case.reported_at)
    return _distribution_rows(
        context,
        elapsed,
        Case.resolved_at.is_not(None),
        pairs=(Case.resolved_at, Case.reported_at),
    )


def _open_cases(context: _Context) -> list[dict[str, Any]]:
    states = tuple(rules.WAITING_ON)
    found = {
        state: (count, oldest)
        for state, count, oldest in context.db.execute(
            select(Case.state, func.count(), func.min(Case.state_changed_at))
            .where(*context.where, Case.state.in_(states))
            .group_by(Case.state)
        )
    }
    rows = []
    for state in states:
        count, oldest = found.get(state, (0, None))
        rows.append(
            {
                "state": state,
                "waiting_on": rules.WAITING_ON[state],
                "cases": count,
                "oldest_since": oldest,
            }
        )
    return rows


def _root_causes(context: _Context) -> list[dict[str, Any]]:
    category = Case.root_cause["category"].as_string()
    defect = Case.root_cause["product_defect"].as_boolean()
    found = {
        name: (count, defects)
        for name, count, defects in context.db.execute(
            select(category, func.count(), _count(defect.is_(True)))
            .where(*context.where, category.is_not(None))
            .group_by(category)
        )
    }
    names = [*ROOT_CAUSE_CATEGORIES, *sorted(set(found) - set(ROOT_CAUSE_CATEGORIES))]
    return [
        {
            "category": name,
            "cases": found.get(name, (0, 0))[0],
            "product_defect": found.get(name, (0, 0))[1],
        }
        for name in names
    ]


def _redirects(context: _Context) -> list[dict[str, Any]]:
    critical = Case.qualification == "critical"
    found = {
        target: (count, from_critical)
        for target, count, from_critical in context.db.execute(
            select(Case.redirect_target, func.count(), _count(critical))
            .where(*context.where, REDIRECTED)
            .group_by(Case.redirect_target)
        )
    }
    reported, reported_critical = context.db.execute(
        select(func.count(), _count(critical)).where(*context.where)
    ).one()
    targets = [*REDIRECT_TARGETS, *sorted(set(found) - set(REDIRECT_TARGETS))]
    rows = [
        {
            "target": target,
            "cases": found.get(target, (0, 0))[0],
            "reported_critical": found.get(target, (0, 0))[1],
            "reported_not_critical": found.get(target, (0, 0))[0] - found.get(target, (0, 0))[1],
        }
        for target in targets
    ]
    redirected = sum(r["cases"] for r in rows)
    critical_redirected = sum(r["reported_critical"] for r in rows)
    context.summary = {
        "reported": reported,
        "reported_critical": reported_critical,
        "redirected": redirected,
        "critical_redirected": critical_redirected,
        "critical_redirected_share": rules.share(critical_redirected, reported_critical),
    }
    return rows


def _acceptable_use(context: _Context) -> list[dict[str, Any]]:
    found = context.db.execute(
        select(
            Case.organisation_id,
            func.count(),
            _count(REDIRECTED),
            _count(and_(REDIRECTED, Case.qualification == "critical")),
        )
        .where(*context.where)
        .group_by(Case.organisation_id)
    ).all()
    organisations = _names(context.db, Organisation, (r[0] for r in found))
    rows = [
        {
            "organisation": organisations.get(org_id, f"#{org_id}"),
            "reported": reported,
            "redirected": redirected,
            "redirected_reported_critical": from_critical,
            "share": rules.share(redirected, reported),
        }
        for org_id, reported, redirected, from_critical in found
    ]
    return sorted(rows, key=lambda r: r["organisation"])


def _referrals(context: _Context) -> list[dict[str, Any]]:
    month = _month(context).label("month")
    found = context.db.execute(
        select(Case.organisation_id, month, func.count())
        .where(*context.where, REDIRECTED, Case.redirect_target == "account_manager")
        .group_by(Case.organisation_id, month)
    ).all()
    organisations = _names(context.db, Organisation, (r[0] for r in found))
    rows = [
        {
            "organisation": organisations.get(org_id, f"#{org_id}"),
            "month": _month_text(m),
            "cases": n,
        }
        for org_id, m, n in found
    ]
    return sorted(rows, key=lambda r: (r["organisation"], r["month"]))


def _bugs(context: _Context) -> list[dict[str, Any]]:
    linked = func.count(distinct(Case.id)).label("linked")
    found = context.db.execute(
        select(BugCase.bug_id, linked, func.count(distinct(Case.organisation_id)))
        .join(Case, Case.id == BugCase.case_id)
        .where(*context.where)
        .group_by(BugCase.bug_id)
        .order_by(linked.desc(), BugCase.bug_id)
        .limit(context.query.limit)
    ).all()
    bugs = {
        bug.id: bug
        for bug in context.db.execute(
            select(Bug.id, Bug.title, Bug.state, Bug.severity).where(
                Bug.id.in_([r[0] for r in found] or [-1])
            )
        )
    }
    return [
        {
            "bug": format_key(bug_id),
            "title": bugs[bug_id].title,
            "state": bugs[bug_id].state,
            "severity": bugs[bug_id].severity,
            "cases": cases,
            "organisations": organisations,
        }
        for bug_id, cases, organisations in found
        if bug_id in bugs
    ]


def _engineer_load(context: _Context) -> list[dict[str, Any]]:
    found = context.db.execute(
        select(Case.owner_id, Case.state, func.count())
        .where(*context.where, Case.state.in_(rules.OPEN_STATES))
        .group_by(Case.owner_id, Case.state)
    ).all()
    owners = {
        user.id: user
        for user in context.db.execute(
            select(User.id, User.email, User.name).where(
                User.id.in_(sorted({r[0] for r in found if r[0] is not None}) or [-1])
            )
        )
    }
    load: dict[int | None, dict[str, int]] = defaultdict(dict)
    for owner_id, state, count in found:
        load[owner_id][state] = count
    rows = []
    for owner_id, states in load.items():
        owner = owners.get(owner_id) if owner_id is not None else None
        counts = {state: states.get(state, 0) for state in rules.OPEN_STATES}
        rows.append(
            {
                "engineer": owner.email if owner else None,
                "name": owner.name if owner else "Unassigned",
            }
            | counts
            | {"open": sum(counts.values())}
        )
    # The unassigned last: they are nobody's load yet.
    return sorted(rows, key=lambda r: (r["engineer"] is None, -r["open"], r["name"]))


BUILDERS: dict[str, Callable[[_Context], list[dict[str, Any]]]] = {
    "sla": _sla,
    "sla-monthly": _sla_monthly,
    "time-to-investigate": _time_to_investigate,
    "time-to-resolution": _time_to_resolution,
    "open-cases": _open_cases,
    "root-causes": _root_causes,
    "redirects": _redirects,
    "acceptable-use": _acceptable_use,
    "referrals": _referrals,
    "bugs": _bugs,
    "engineer-load": _engineer_load,
}


@dataclass(frozen=True, slots=True)
class Referral:
    ref: str
    organisation: str
    title: str
    reported_at: datetime
    redirected_at: datetime | None
    message: str | None


def recent_referrals(*, db: Session, scope: Scope, query: Query, limit: int = 10) -> list[Referral]:
    """The newest cases redirected to the account manager (training, consultancy)."""
    where = _conditions(
        scope,
        query,
        _organisation(db, scope, query.organisation),
        _package(db, query.package),
    )
    found = db.execute(
        select(
            Case.id,
            Organisation.name,
            Case.title,
            Case.reported_at,
            Case.state_changed_at,
            Case.redirect_message,
        )
        .join(Organisation, Organisation.id == Case.organisation_id)
        .where(*where, REDIRECTED, Case.redirect_target == "account_manager")
        .order_by(Case.id.desc())
        .limit(limit)
    ).all()
    return [
        Referral(format_ref(case_id), name, title, reported, changed, message)
        for case_id, name, title, reported, changed, message in found
    ]
