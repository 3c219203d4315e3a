"""A fixed data set for the report tests: thirteen cases reported between August and October
2026 over the demo's organisations, built with the case services at known times, so that every
figure can be worked out by hand (tests/report/test_figures.py does so in its comments).

Packages (DESIGN.md): Contoso Health — Business, Mon–Fri 09:00–17:30 London with England's
bank holidays, S1 4 h / S2 8 h / S3 16 h; Northwind Insurance — Enterprise, 24x7 (UTC),
S1 30 min / S2 2 h / S4 8 h; Fabrikam Retail — Premium, Mon–Sat 07:00–22:00 London, S2 4 h /
S3 8 h. London is on BST (UTC+1) until Sunday 25 October 2026, on GMT after. All times below
are UTC. The clock of the data set ends at ``END``: Friday 30 October 2026, 12:00.

Each case: organisation and severity; reported; investigation started; business seconds
taken; the clock's outcome; what happened next.

* C1 Contoso S1: Fri 28 Aug 15:30; Tue 1 Sep 10:00 (Mon 31 Aug is a bank holiday); 10800;
  met (due Tue 11:00); root cause configuration, resolved Wed 2 Sep 10:00, BUG-B.
* C2 Contoso S2: Fri 2 Oct 14:00; Mon 5 Oct 15:00 (across the weekend); 34200; breached
  (due Mon 13:30); investigating (eng2).
* C3 Contoso S3: Wed 30 Sep 16:00; Thu 1 Oct 08:30 (across the month's end); 3600; met;
  root cause infrastructure, resolved Thu 1 Oct 14:30.
* C5 Contoso S1: Fri 30 Oct 11:00; —; —; running (due 15:00); new, unassigned.
* C6 Contoso S3: Mon 19 Oct 09:00; —; —; breached (due Tue 20 Oct 16:30); new, assigned to
  eng1.
* N1 Northwind S1: Sat 29 Aug 23:50; Sun 30 Aug 00:10; 1200; met; investigating (eng1).
* N2 Northwind S1: Mon 31 Aug 23:45; Tue 1 Sep 00:30; 2700; breached (due 00:15);
  investigating (eng2).
* N3 Northwind S2: Thu 15 Oct 10:00; 11:00; 3600; met; root cause product defect, resolved
  Fri 16 Oct 10:00, BUG-A.
* N4 Northwind S4 (UAT, not critical): Tue 6 Oct 09:00; —; —; no outcome: redirected to the
  Support Helpdesk at 09:20 before anyone investigated.
* N5 Northwind S1: Wed 7 Oct 12:00; 12:10; 600; met; root cause third party, redirected to
  third-party support at 13:00.
* F1 Fabrikam S2: Sat 3 Oct 20:00; Mon 5 Oct 06:30 (Sunday closed); 5400; met (due Mon
  09:00); a question asked Mon 07:00: awaiting the customer.
* F2 Fabrikam S3: Mon 26 Oct 08:00; 17:00; 32400; breached (due 16:00); root cause product
  defect, resolved Wed 28 Oct 17:00, BUG-A.
* F3 Fabrikam S2: Tue 20 Oct 10:00; 10:30; 1800; met; referred to the account manager 11:00.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from critdesk.auth.models import User
from critdesk.bug import service as bugs
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.case.rules import Impact
from critdesk.db import Database
from critdesk.request import service as requests
from tests.auth.test_pages import open_web_session

END = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
PERIOD = "from=2026-08-01&to=2026-11-01"

KINDS = {
    # impact, breadth, end users blocked -> the severity the intake rules give it
    "outage": (Impact(app_unavailable=True), "all_users", True),  # S1
    "broad": (Impact(), "end_users", True),  # S2
    "narrow": (Impact(), "particular_circumstance", True),  # S3
    "uat": (Impact(), "particular_circumstance", False),  # S4 on a non-production environment
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Dataset:
    refs: dict[str, str]
    bugs: dict[str, str]


class _Builder:
    def __init__(self, db: Session) -> None:
        self.db = db
        self.users = {u.email.split("@")[0]: u for u in db.scalars(select(User))}
        self.cases: dict[str, Case] = {}

    def report(self, key: str, who: str, env: str, kind: str, when: str) -> Case:
        reporter = self.users[who]
        impact, breadth, blocked = KINDS[kind]
        assert reporter.organisation is not None
        environment = next(e for e in reporter.organisation.environments if e.name == env)
        new = cases.NewCase(
            title=f"{key}: {kind} in {env}",
            description=f"Data set case {key}.",
            environment_id=environment.id,
            impact=impact,
            breadth=breadth,
            end_users_blocked=blocked,
        )
        case = cases.report_case(db=self.db, reporter=reporter, new=new, now=at(when)).case
        self.cases[key] = case
        return case

    def start(self, key: str, who: str, when: str) -> None:
        cases.start_investigation(
            db=self.db, case=self.cases[key], actor=self.users[who], now=at(when)
        )

    def root_cause(self, key: str, category: str, when: str, defect: bool = False) -> None:
        cases.record_root_cause(
            db=self.db,
            case=self.cases[key],
            actor=self.users["eng1"],
            category=category,
            summary=f"{category} found",
            product_defect=defect,
            evidence=[],
            now=at(when),
        )

    def resolve(self, key: str, when: str) -> None:
        cases.resolve(
            db=self.db,
            case=self.cases[key],
            actor=self.users["eng1"],
            outcomes=[{"type": "resolution_advised", "text": "Do this."}],
            now=at(when),
        )

    def redirect(self, key: str, target: str, when: str, **details: str) -> None:
        cases.redirect(
            db=self.db,
            case=self.cases[key],
            target=target,
            message=f"Please go to {target}.",
            actor=self.users["lead"],
            now=at(when),
            **details,  # type: ignore[arg-type]
        )

    def bug(self, title: str, keys: list[str], when: str) -> str:
        bug = bugs.create_bug(
            db=self.db,
            actor=self.users["eng1"],
            fields={"product": "Platform", "title": title, "description": title, "severity": "S2"},
            submit=False,
            now=at(when),
        )
        for key in keys:
            bugs.link_case(
                db=self.db, bug=bug, case=self.cases[key], actor=self.users["eng1"], now=at(when)
            )
        return bug.key


def build(db: Session) -> Dataset:
    b = _Builder(db)
    # Contoso Health (Business: Mon-Fri 09:00-17:30 London, England's holidays)
    b.report("C1", "carol", "ch-prod", "outage", "2026-08-28 15:30")
    b.start("C1", "eng1", "2026-09-01 10:00")
    b.root_cause("C1", "configuration", "2026-09-01 12:00")
    b.resolve("C1", "2026-09-02 10:00")
    b.report("C2", "carol", "ch-prod", "broad", "2026-10-02 14:00")
    b.start("C2", "eng2", "2026-10-05 15:00")
    b.report("C3", "carol", "ch-prod", "narrow", "2026-09-30 16:00")
    b.start("C3", "eng1", "2026-10-01 08:30")
    b.root_cause("C3", "infrastructure", "2026-10-01 10:00")
    b.resolve("C3", "2026-10-01 14:30")
    b.report("C5", "carol", "ch-prod", "outage", "2026-10-30 11:00")
    b.report("C6", "carol", "ch-prod", "narrow", "2026-10-19 09:00")
    cases.assign(
        db=db,
        case=b.cases["C6"],
        engineer_email="eng1@vendor.example",
        actor=b.users["lead"],
        now=at("2026-10-19 10:00"),
    )
    # Northwind Insurance (Enterprise: 24x7 in UTC)
    b.report("N1", "alice", "nw-prod", "outage", "2026-08-29 23:50")
    b.start("N1", "eng1", "2026-08-30 00:10")
    b.report("N2", "alice", "nw-prod", "outage", "2026-08-31 23:45")
    b.start("N2", "eng2", "2026-09-01 00:30")
    b.report("N3", "alice", "nw-prod", "broad", "2026-10-15 10:00")
    b.start("N3", "eng2", "2026-10-15 11:00")
    b.root_cause("N3", "product_defect", "2026-10-15 12:00", defect=True)
    b.resolve("N3", "2026-10-16 10:00")
    b.report("N4", "bob", "nw-uat", "uat", "2026-10-06 09:00")
    b.redirect("N4", "support_helpdesk", "2026-10-06 09:20")
    b.report("N5", "alice", "nw-prod", "outage", "2026-10-07 12:00")
    b.start("N5", "eng1", "2026-10-07 12:10")
    b.root_cause("N5", "third_party", "2026-10-07 12:40")
    b.redirect("N5", "third_party_support", "2026-10-07 13:00", third_party="Acme Payments")
    # Fabrikam Retail (Premium: Mon-Sat 07:00-22:00 London)
    b.report("F1", "dan", "fr-prod", "broad", "2026-10-03 20:00")
    b.start("F1", "eng2", "2026-10-05 06:30")
    requests.open_request(
        db=db,
        case=b.cases["F1"],
        actor=b.users["eng2"],
        kind="question",
        message="Which Gateway version?",
        details={},
        due_at=None,
        now=at("2026-10-05 07:00"),
        default_due=timedelta(days=2),
    )
    b.report("F2", "dan", "fr-prod", "narrow", "2026-10-26 08:00")
    b.start("F2", "eng1", "2026-10-26 17:00")
    b.root_cause("F2", "product_defect", "2026-10-26 18:00", defect=True)
    b.resolve("F2", "2026-10-28 17:00")
    b.report("F3", "dan", "fr-prod", "broad", "2026-10-20 10:00")
    b.start("F3", "eng2", "2026-10-20 10:30")
    b.redirect("F3", "account_manager", "2026-10-20 11:00")
    bug_a = b.bug("Gateway sync drops orders", ["N3", "F2"], "2026-10-28 18:00")
    bug_b = b.bug("Certificate rotation breaks uploads", ["C1"], "2026-10-28 18:00")
    return Dataset(
        refs={key: case.ref for key, case in b.cases.items()}, bugs={"A": bug_a, "B": bug_b}
    )


@pytest.fixture
def dataset(database: Database, clock, login) -> Dataset:  # type: ignore[no-untyped-def]
    """The data set on top of the demo (whose cases are all reported in November 2026), with
    the clock at ``END``. Depends on ``login`` so that the demo and its users exist."""
    login("lead@vendor.example")
    with database.session() as session:
        built = build(session)
    clock.set(END)
    return built


@pytest.fixture
def browse(client: Any, database: Database, clock: Any, demo: None) -> Callable[[str], str]:
    """Logs the test client in to the pages as a demo user (a session cookie)."""
    return lambda email: open_web_session(client, database, clock, email)
