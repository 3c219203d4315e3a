"""Loads the demo data through the same service functions the API uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from critdesk.auth import service as auth
from critdesk.auth.models import User
from critdesk.auth.passwords import hash_password
from critdesk.case import service as cases
from critdesk.case.models import Case
from critdesk.case.rules import Impact
from critdesk.errors import DomainError
from critdesk.notification import outbox
from critdesk.organisation import service as organisations
from critdesk.package import service as packages
from critdesk.package.catalogue import EXAMPLE_PACKAGES

DEMO_PASSWORD = "demo-password-123"

STAFF = [
    ("admin@vendor.example", "Ada Admin", "admin"),
    ("lead@vendor.example", "Lee Lead", "lead"),
    ("eng1@vendor.example", "Eli Engineer", "engineer"),
    ("eng2@vendor.example", "Emma Engineer", "engineer"),
    ("am@vendor.example", "Amir Account-Manager", "account_manager"),
]

# name, package, environments (name, type, production), contacts (email, name, role, phone)
ORGANISATIONS = [
    (
        "Northwind Insurance",
        "enterprise",
        [("nw-prod", "cloud", True), ("nw-uat", "cloud", False)],
        [
            ("alice@northwind.example", "Alice Northwind", "customer_admin", "+44 161 496 0101"),
            ("bob@northwind.example", "Bob Northwind", "customer", "+44 161 496 0102"),
        ],
    ),
    (
        "Contoso Health",
        "business",
        [("ch-prod", "on_premises", True)],
        [("carol@contoso.example", "Carol Contoso", "customer_admin", "+44 113 496 0201")],
    ),
    (
        "Fabrikam Retail",
        "premium",
        [("fr-prod", "gateway", True)],
        [("dan@fabrikam.example", "Dan Fabrikam", "customer_admin", "+44 117 496 0301")],
    ),
    (
        "Tailspin Travel",
        "essential",
        [("tt-prod", "on_premises", True)],
        [("erin@tailspin.example", "Erin Tailspin", "customer_admin", "+44 131 496 0401")],
    ),
]


class NotADemoDatabase(DomainError):
    status_code = 409


@dataclass(frozen=True)
class DemoResult:
    created: bool
    logins: list[tuple[str, str]]


def _logins(db: Session) -> list[tuple[str, str]]:
    return [(u.email, u.role) for u in db.scalars(select(User).order_by(User.id))]


def load_demo(*, db: Session, now: datetime) -> DemoResult:
    """Seeds the demo once; a second run changes nothing. Refuses a real (non-demo) database."""
    if db.scalar(select(User.id).where(User.demo.is_(False))) is not None:
        raise NotADemoDatabase(
            "not_a_demo_database", "this database holds real (non-demo) users; refusing"
        )
    if db.scalar(select(User.id)) is not None:
        return DemoResult(False, _logins(db))
    # One hash for every demo account: they share a published password anyway, and hashing it
    # once keeps ``critdesk demo`` (and every test that loads it) fast.
    password_hash = hash_password(DEMO_PASSWORD)
    for spec in EXAMPLE_PACKAGES:
        packages.create_package(db=db, actor=None, now=now, **spec)
    staff = {
        email: auth.create_user(
            db=db,
            email=email,
            name=name,
            role=role,
            password=None,
            password_hash=password_hash,
            organisation_id=None,
            now=now,
            demo=True,
        )
        for email, name, role in STAFF
    }
    for name, package, environments, contacts in ORGANISATIONS:
        org = organisations.create_organisation(
            db=db, actor=None, name=name, package_code=package, now=now
        )
        org.account_manager_id = staff["am@vendor.example"].id
        for env_name, env_type, production in environments:
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
        for email, person, role, phone in contacts:
            contact = auth.create_user(
                db=db,
                email=email,
                name=person,
                role=role,
                password=None,
                password_hash=password_hash,
                organisation_id=org.id,
                now=now,
                phone=phone,
                demo=True,
            )
            # The demo customers all work in the UK, whatever their package's clock zone.
            contact.time_zone = "Europe/London"

    db.flush()
    _demo_cases(db, now, staff)
    # The demo's notifications are written with it, as the outbox drain would write them.
    db.flush()
    outbox.fan_out_all(db)
    return DemoResult(True, _logins(db))


def _user(db: Session, email: str) -> User:
    user = db.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def _env_id(db: Session, user: User, name: str) -> int:
    assert user.organisation is not None
    db.refresh(user.organisation)
    return next(e.id for e in user.organisation.environments if e.name == name)


def _report(
    db: Session,
    email: str,
    env: str,
    at: datetime,
    title: str,
    description: str,
    impact: Impact,
    breadth: str,
    blocked: bool,
) -> Case:
    reporter = _user(db, email)
    new = cases.NewCase(
        title=title,
        description=description,
        environment_id=_env_id(db, reporter, env),
        impact=impact,
        breadth=breadth,
        end_users_blocked=blocked,
    )
    return cases.report_case(db=db, reporter=reporter, new=new, now=at).case


def _demo_cases(db: Session, now: datetime, staff: dict[str, User]) -> None:
    eng1, eng2, lead = (
        staff["eng1@vendor.example"],
        staff["eng2@vendor.example"],
        staff["lead@vendor.example"],
    )
    _report(
        db,
        "alice@northwind.example",
        "nw-prod",
        now - timedelta(minutes=12),
        "Claims portal returns HTTP 503 for every user",
        "Since the 10.4.2 Cloud deployment at 08:40 every page of the claims portal answers "
        "503. End users cannot file or track claims.",
        Impact(app_unavailable=True),
        "all_users",
        True,
    )
    _report(
        db,
        "dan@fabrikam.example",
        "fr-prod",
        now - timedelta(hours=2),
        "Orders stop syncing through the Gateway",
        "Store orders placed since this morning do not reach the ERP; the Gateway log shows "
        "repeated timeouts. Shoppers can order, but stores cannot fulfil.",
        Impact(),
        "end_users",
        True,
    )
    slow = _report(
        db,
        "carol@contoso.example",
        "ch-prod",
        now - timedelta(days=1, hours=3),
        "Patient lookup takes 40 s on the ward tablets",
        "Searching a patient by name takes 30–40 seconds on the ward tablets only; "
        "desktop users are fine.",
        Impact(degraded=True),
        "particular_circumstance",
        True,
    )
    cases.assign(
        db=db, case=slow, engineer_email=eng1.email, actor=lead, now=now - timedelta(hours=20)
    )
    cases.start_investigation(db=db, case=slow, actor=eng1, now=now - timedelta(hours=20))
    _report(
        db,
        "bob@northwind.example",
        "nw-uat",
        now - timedelta(hours=5),
        "Export to Excel fails in UAT",
        "The Excel export of the claims Entity fails in our UAT environment.",
        Impact(),
        "particular_circumstance",
        False,
    )
    fixed = _report(
        db,
        "alice@northwind.example",
        "nw-prod",
        now - timedelta(days=3),
        "Document uploads rejected after certificate rotation",
        "Uploads fail with a TLS handshake error since the certificate rotation.",
        Impact(),
        "all_users",
        True,
    )
    cases.start_investigation(
        db=db, case=fixed, actor=eng2, now=now - timedelta(days=3) + timedelta(minutes=20)
    )
    cases.resolve(
        db=db,
        case=fixed,
        actor=eng2,
        now=now - timedelta(days=2),
        outcomes=[
            {
                "type": "workaround_provided",
                "text": "Re-import the intermediate certificate in the Cloud portal's trust store.",
            }
        ],
    )
    howto = _report(
        db,
        "dan@fabrikam.example",
        "fr-prod",
        now - timedelta(days=4),
        "How do we add a field to the Order Entity?",
        "We want a new delivery-slot field on Order; nothing is broken.",
        Impact(),
        "particular_circumstance",
        False,
    )
    cases.redirect(
        db=db,
        case=howto,
        target="documentation",
        actor=eng1,
        now=now - timedelta(days=4) + timedelta(hours=1),
        message="This is a how-to question rather than a critical issue: see "
        "'Extending an Entity' in the product documentation.",
        links=["https://docs.vendor.example/modelling/entities/extending"],
    )
