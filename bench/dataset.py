"""The 100,000-open-case data set, bulk-loaded with SQLAlchemy Core (never through HTTP).

Rows are built the way the app builds them: severity and qualification from
``critdesk.case.rules``, the SLA clock from ``critdesk.sla.rules.start_clock`` over the
package's calendar (``critdesk.package.service.calendar_of``), and one ``reported`` timeline
event per case with the data the app writes. Deterministic: a seeded RNG and one ``now``.

Spread: the three desk packages (the organisation's package; the demo's three organisations
plus ``BENCH_ORGS_PER_PACKAGE`` more per package, each with a production and a UAT
environment), severities S1-S4 from a realistic mix of intake answers, 60 % waiting for an
engineer (``state='new'``; 70 % of them reported in the last 6 hours, most with running
clocks, and a backlog over the 30 days, past due) and 40 % being worked
(``state='investigating'``, ``sla_met_at`` set, met or breached, an engineer as owner), reported
over the last 30 days, and the keyword ``printer`` in about 2 % of titles. The SLA sweep
columns are set as the sweeps would have left them (warnings and breaches that fell due were
sent then), so that the server's embedded sweeps find the usual trickle, not a 30-day backlog;
their timeline events are not written (one ``reported`` event per case).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from critdesk.auth import service as auth
from critdesk.auth.models import User
from critdesk.calendar.rules import add_business_time
from critdesk.case import rules
from critdesk.case.models import Case, CaseEvent
from critdesk.case.rules import OPEN_STATES
from critdesk.db import Database
from critdesk.organisation import service as organisations
from critdesk.organisation.models import Environment, Organisation
from critdesk.package.models import SupportPackage
from critdesk.package.service import calendar_of
from critdesk.sla import rules as sla

KEYWORD = "printer"
KEYWORD_SHARE = 0.02
WAITING_SHARE = 0.60
RECENT_SHARE = 0.70  # of the waiting cases, reported in the last RECENT_HOURS
RECENT_HOURS = 6
DAYS = 30
BATCH = 5000
SEED = 20261126
ORGS_PER_PACKAGE = 8
ENGINEERS = ("eng1@vendor.example", "eng2@vendor.example", "lead@vendor.example")

# (weight, impact, breadth, end users blocked) for production environments: a mix that gives
# roughly S1 10 %, S2 25 %, S3 35 %, S4 30 % through the app's own severity rules.
PROD_ANSWERS = [
    (7, rules.Impact(app_unavailable=True), "all_users", True),
    (2, rules.Impact(security_vulnerability=True), "particular_circumstance", False),
    (1, rules.Impact(data_loss=True), "end_users", False),
    (25, rules.Impact(), "end_users", True),
    (20, rules.Impact(degraded=True), "particular_circumstance", True),
    (15, rules.Impact(degraded=True), "all_users", False),
    (17, rules.Impact(), "particular_circumstance", False),
]
# Non-production environments: S4 unless security or data is at stake.
UAT_ANSWERS = [
    (9, rules.Impact(), "particular_circumstance", False),
    (1, rules.Impact(security_vulnerability=True), "all_users", False),
]
SUBJECTS = [
    "Claims portal answers HTTP 503 after the {v} upgrade",
    "Order sync through the Gateway times out",
    "Login page loops back to the identity provider",
    "Nightly batch of the {e} Entity never finishes",
    "Workspace export fails with an out-of-memory error",
    "Search on the {e} Entity takes 40 s",
    "Project deploy to Cloud stuck at 'publishing'",
    "REST connector to the ERP returns 401 since {v}",
    "Dashboard widgets show stale data",
    "Session timeouts for end users after a few seconds",
    "Document uploads rejected after certificate rotation",
    "Mobile app cannot reach the On-Premises server",
]
KEYWORD_SUBJECTS = [
    "Label printer integration stopped after the {v} upgrade",
    "Invoices no longer reach the network printer",
    "Print queue of the {e} Entity hangs: printer offline",
]
ENTITIES = ["Claim", "Order", "Patient", "Invoice", "Shipment", "Policy", "Booking"]
VERSIONS = ["10.4.2", "10.4.1", "10.3.7", "10.5.0"]
DESCRIPTION = (
    "Since {when} the {e} Entity in our {env} environment misbehaves: {what}. "
    "We attached the Gateway and application logs; the Project was last deployed with "
    "version {v}. End users report it through our own service desk."
)


@dataclass(frozen=True, slots=True)
class Reporter:
    user_id: int
    organisation_id: int
    package: SupportPackage
    environments: tuple[tuple[int, str, bool], ...]  # (id, name, production)


def add_organisations(db: Session, now: datetime, per_package: int) -> None:
    """More customer organisations on the three desk packages, through the app's services."""
    existing = set(db.scalars(select(Organisation.name)))
    for code in ("business", "premium", "enterprise"):
        for n in range(1, per_package + 1):
            name = f"Bench {code.title()} {n:02d}"
            if name in existing:
                continue
            org = organisations.create_organisation(
                db=db, actor=None, name=name, package_code=code, now=now
            )
            slug = f"b{code[0]}{n:02d}"
            env_type = ("cloud", "on_premises", "gateway")[n % 3]
            for env_name, production in ((f"{slug}-prod", True), (f"{slug}-uat", False)):
                organisations.create_environment(
                    db=db,
                    actor=None,
                    organisation=org,
                    name=env_name,
                    type=env_type,
                    production=production,
                    product_version="10.4.2",
                    now=now,
                )
            auth.create_user(
                db=db,
                email=f"contact@{slug}.bench.example",
                name=f"Contact {name}",
                role="customer_admin",
                password=None,
                organisation_id=org.id,
                now=now,
            )


def _reporters(db: Session) -> list[Reporter]:
    packages = {p.id: p for p in db.scalars(select(SupportPackage))}
    envs: dict[int, list[tuple[int, str, bool]]] = {}
    for env in db.scalars(select(Environment).order_by(Environment.id)):
        envs.setdefault(env.organisation_id, []).append((env.id, env.name, env.production))
    out = []
    seen: set[int] = set()
    for user in db.scalars(select(User).order_by(User.id)):
        org_id = user.organisation_id
        if org_id is None or org_id in seen or not envs.get(org_id):
            continue
        org = db.get(Organisation, org_id)
        assert org is not None
        package = packages[org.package_id]
        if not package.desk_access:
            continue
        seen.add(org_id)
        out.append(Reporter(user.id, org_id, package, tuple(envs[org_id])))
    return out


def _answers(rng: random.Random, production: bool) -> tuple[rules.Impact, str, bool]:
    table = PROD_ANSWERS if production else UAT_ANSWERS
    _w, impact, breadth, blocked = rng.choices(table, weights=[t[0] for t in table])[0]
    return impact, breadth, blocked


def _title(rng: random.Random, n: int) -> str:
    pool = KEYWORD_SUBJECTS if rng.random() < KEYWORD_SHARE else SUBJECTS
    subject = rng.choice(pool).format(v=rng.choice(VERSIONS), e=rng.choice(ENTITIES))
    return f"{subject} (#{n})"


def _case_row(
    rng: random.Random,
    case_id: int,
    who: Reporter,
    engineer_ids: list[int],
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    env_id, env_name, production = (
        who.environments[0]
        if rng.random() < 0.85 or len(who.environments) == 1
        else rng.choice(who.environments[1:])
    )
    impact, breadth, blocked = _answers(rng, production)
    report = rules.Report(impact, breadth, blocked, production)
    severity = rules.assess_severity(report)
    qualification = rules.qualify(report)
    package = who.package
    calendar = calendar_of(package)
    target = int(package.sla_targets[severity.severity])
    waiting = rng.random() < WAITING_SHARE
    # Most waiting cases came in during the last few hours (clocks running); the rest are a
    # backlog spread over the 30 days (past due); cases being worked are spread evenly.
    recent = waiting and rng.random() < RECENT_SHARE
    age = RECENT_HOURS * 3600 * rng.random() if recent else DAYS * 86400 * rng.random()
    reported_at = now - timedelta(seconds=age)
    clock = sla.start_clock(calendar, reported_at, target)
    met_at = taken = None
    breached = False
    owner_id = None
    if not waiting:
        share = rng.uniform(0.05, 1.4)
        met_at = add_business_time(calendar, reported_at, timedelta(seconds=share * target))
        if met_at > now:
            met_at = now - timedelta(seconds=rng.uniform(1, 600))
        met_at = max(met_at, reported_at)
        taken = sla.business_seconds(calendar, reported_at, met_at)
        breached = met_at > clock.due_at
        owner_id = rng.choice(engineer_ids)
    # Where the SLA sweeps would have got to by now: a warning or breach that fell due before
    # the clock stopped (or before now, if it still runs) was sent then.
    clock_end = met_at or now
    warned = clock.warn_at if clock.warn_at <= clock_end else None
    breach_sent = clock.due_at if clock.due_at <= clock_end else None
    if waiting and breach_sent is not None:
        breached = True
    channel = rng.choice(package.channels)
    what = rng.choice(["pages answer 503", "requests time out", "users are logged out"])
    case = {
        "id": case_id,
        "organisation_id": who.organisation_id,
        "package_id": package.id,
        "reporter_id": who.user_id,
        "environment_id": env_id,
        "owner_id": owner_id,
        "channel": channel,
        "title": _title(rng, case_id),
        "description": DESCRIPTION.format(
            when=reported_at.strftime("%d %b %H:%M"),
            e=rng.choice(ENTITIES),
            env=env_name,
            what=what,
            v=rng.choice(VERSIONS),
        ),
        "impact_app_unavailable": impact.app_unavailable,
        "impact_security_vulnerability": impact.security_vulnerability,
        "impact_data_loss": impact.data_loss,
        "impact_degraded": impact.degraded,
        "breadth": breadth,
        "end_users_blocked": blocked,
        "severity": severity.severity,
        "customer_severity": severity.severity,
        "severity_reasons": list(severity.reasons),
        "qualification": qualification.status,
        "qualification_reasons": list(qualification.reasons),
        "suggested_redirect": qualification.suggested_redirect,
        "state": "new" if waiting else "investigating",
        "queue_group": "waiting" if waiting else "active",
        "queue_weight": package.queue_weight,
        "reported_at": reported_at,
        "updated_at": met_at or reported_at,
        "sla_target_seconds": clock.target_seconds,
        "sla_clock_starts_at": clock.clock_starts_at,
        "sla_warn_at": clock.warn_at,
        "sla_due_at": clock.due_at,
        "sla_met_at": met_at,
        "sla_business_seconds_taken": taken,
        "sla_breached": breached,
        "redirect_target": None,
        "redirect_message": None,
        "outcomes": [],
        "resolved_at": None,
        "closed_at": None,
        "version": 1,
        "state_changed_at": met_at or reported_at,
        "sla_warning_sent_at": warned,
        "sla_breach_sent_at": breach_sent,
    }
    event = {
        "case_id": case_id,
        "at": reported_at,
        "actor_id": who.user_id,
        "kind": "reported",
        "internal": False,
        "message": None,
        "data": {
            "channel": channel,
            "severity": severity.severity,
            "qualification": qualification.status,
        },
    }
    return case, event


def _known(row: dict[str, Any]) -> dict[str, Any]:
    # Columns that this version of the schema does not have yet are left out.
    return {key: value for key, value in row.items() if key in Case.__table__.c}


def open_case_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Case).where(Case.state.in_(OPEN_STATES)))


def fill(engine: Engine, *, target_open: int, now: datetime, per_package: int) -> dict[str, Any]:
    """Tops the open cases up to ``target_open``; returns a summary of the whole data set."""
    started = time.perf_counter()
    db_factory = Database(engine).session
    with db_factory() as db:
        add_organisations(db, now, per_package)
    with db_factory() as db:
        reporters = _reporters(db)
        engineer_ids = list(db.scalars(select(User.id).where(User.email.in_(ENGINEERS))))
        need = max(0, target_open - open_case_count(db))
        # Case ids are given (each event names its case); event ids are left to the database,
        # since the running server's SLA sweeps may write events meanwhile.
        next_case = (db.scalar(select(func.max(Case.id))) or 0) + 1
    rng = random.Random(SEED)
    made = 0
    build_s = 0.0
    while made < need:
        t0 = time.perf_counter()
        cases, events = [], []
        for i in range(min(BATCH, need - made)):
            who = rng.choice(reporters)
            case, event = _case_row(rng, next_case + made + i, who, engineer_ids, now)
            cases.append(case)
            events.append(event)
        build_s += time.perf_counter() - t0
        with db_factory() as db:
            db.execute(insert(Case.__table__), [_known(row) for row in cases])
            db.execute(insert(CaseEvent.__table__), events)
        made += len(cases)
    loaded_s = time.perf_counter() - started
    _after_bulk_load(engine)
    return summary(engine, now) | {
        "bulk_inserted": made,
        "build_rows_s": round(build_s, 1),
        "load_s": round(loaded_s, 1),
        "load_and_analyze_s": round(time.perf_counter() - started, 1),
    }


def _after_bulk_load(engine: Engine) -> None:
    """Ids were given explicitly, so PostgreSQL's sequences move past them; then statistics.

    PostgreSQL gets VACUUM ANALYZE (what autovacuum would soon do after 100k inserts, done now
    so that it does not run in the middle of a measurement); SQLite gets ANALYZE, as the peer.
    """
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("cases",):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        conn.execute(text("VACUUM ANALYZE"))


def summary(engine: Engine, now: datetime) -> dict[str, Any]:
    with Database(engine).session(read_only=True) as db:
        open_cases = open_case_count(db)
        rows = db.execute(
            select(SupportPackage.code, Case.severity, Case.queue_group, func.count())
            .join(SupportPackage, SupportPackage.id == Case.package_id)
            .where(Case.state.in_(OPEN_STATES))
            .group_by(SupportPackage.code, Case.severity, Case.queue_group)
        ).all()
        past_due = db.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.queue_group == "waiting", Case.sla_due_at <= now)
        )
        keyword = db.scalar(
            select(func.count())
            .select_from(Case)
            .where(func.lower(Case.title).like(f"%{KEYWORD}%"))
        )
        return {
            "cases": db.scalar(select(func.count()).select_from(Case)),
            "open_cases": open_cases,
            "case_events": db.scalar(select(func.count()).select_from(CaseEvent)),
            "organisations": db.scalar(select(func.count()).select_from(Organisation)),
            "by_package": _tally(rows, 0),
            "by_severity": _tally(rows, 1),
            "by_group": _tally(rows, 2),
            "waiting_past_due": past_due,
            "titles_with_keyword": keyword,
        }


def _tally(rows: list[Any], index: int) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for row in rows:
        counts[str(row[index])] += row[3]
    return dict(sorted(counts.items()))
