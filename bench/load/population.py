"""Who takes part in the workload: customer organisations with a production environment and a
contact each, the vendor's engineers, and an API token for every one of them.

Created in-process through critdesk's own services (the ones the admin API and ``critdesk
user create`` / ``critdesk token create`` call), after ``critdesk demo`` (which refuses a
database that already holds non-demo users).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

import critdesk.models  # noqa: F401  (every mapper, before the first query)
from critdesk.auth import service as auth
from critdesk.auth.models import User
from critdesk.db import Database, make_engine
from critdesk.organisation import service as organisations

DEMO_ENGINEERS = ("eng1@vendor.example", "eng2@vendor.example")


@dataclass(frozen=True)
class Person:
    email: str
    token: str
    role: str
    organisation_id: int | None = None
    environment_id: int | None = None


@dataclass(frozen=True)
class Population:
    customers: list[Person]
    engineers: list[Person]
    admin: Person


def populate(
    url: str, *, customers: int, engineers: int, package: str = "enterprise", tag: str = "load"
) -> Population:
    """``customers`` organisations (one customer_admin each, on ``package``) and ``engineers``
    engineers (the demo's two first), each with a fresh API token."""
    now = datetime.now(UTC)
    database = Database(make_engine(url, pool_size=2))
    try:
        with database.session() as db:
            people: list[Person] = []
            for n in range(customers):
                org = organisations.create_organisation(
                    db=db,
                    actor=None,
                    name=f"{tag.title()} Customer {n:03d}",
                    package_code=package,
                    now=now,
                )
                env = organisations.create_environment(
                    db=db,
                    actor=None,
                    organisation=org,
                    name=f"{tag}-{n:03d}-prod",
                    type="cloud",
                    production=True,
                    product_version="10.4.2",
                    now=now,
                )
                user = auth.create_user(
                    db=db,
                    email=f"contact{n:03d}@{tag}-customer-{n:03d}.example",
                    name=f"Contact {n:03d}",
                    role="customer_admin",
                    password=None,
                    organisation_id=org.id,
                    now=now,
                )
                token = auth.issue_token(db=db, user=user, name=tag, now=now)
                people.append(Person(user.email, token, user.role, org.id, env.id))
            staff: list[Person] = []
            for n in range(engineers):
                email = (
                    DEMO_ENGINEERS[n] if n < len(DEMO_ENGINEERS) else f"eng{n:03d}@vendor.example"
                )
                user = db.scalar(select(User).where(User.email == email))
                if user is None:
                    user = auth.create_user(
                        db=db,
                        email=email,
                        name=f"Engineer {n:03d}",
                        role="engineer",
                        password=None,
                        organisation_id=None,
                        now=now,
                    )
                staff.append(
                    Person(email, auth.issue_token(db=db, user=user, name=tag, now=now), user.role)
                )
            admin = db.scalars(select(User).where(User.email == "admin@vendor.example")).one()
            admin_person = Person(
                admin.email, auth.issue_token(db=db, user=admin, name=tag, now=now), admin.role
            )
        return Population(people, staff, admin_person)
    finally:
        database.dispose()
