"""Organisations and environments: admin setup, and what each caller may see of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from critdesk.audit import service as audit
from critdesk.auth.models import User
from critdesk.errors import Forbidden, Invalid, NotFound
from critdesk.organisation.models import ENVIRONMENT_TYPES, Environment, Organisation
from critdesk.package.models import SupportPackage


def require_admin(actor: User) -> None:
    if actor.role != "admin":
        raise Forbidden("admin_only", "only an admin may do this")


def visible_organisation(*, db: Session, actor: User, organisation_id: int) -> Organisation:
    """An organisation the caller may see; another organisation reads as absent (404)."""
    organisation = db.get(
        Organisation, organisation_id, options=[selectinload(Organisation.environments)]
    )
    if organisation is None or not may_see(actor, organisation):
        raise NotFound("organisation")
    return organisation


def may_see(actor: User, organisation: Organisation) -> bool:
    """Customers see their own organisation; an account manager the organisations they manage
    (as with their cases); the rest of the vendor's staff every organisation."""
    if actor.is_customer:
        return actor.organisation_id == organisation.id
    if actor.role == "account_manager":
        return organisation.account_manager_id == actor.id
    return True


def list_organisations(*, db: Session, actor: User) -> list[Organisation]:
    query = select(Organisation).options(selectinload(Organisation.environments))
    if actor.is_customer:
        query = query.where(Organisation.id == actor.organisation_id)
    elif actor.role == "account_manager":
        query = query.where(Organisation.account_manager_id == actor.id)
    return list(db.scalars(query.order_by(Organisation.id)))


def create_organisation(
    *, db: Session, actor: User | None, name: str, package_code: str, now: datetime
) -> Organisation:
    if actor is not None:
        require_admin(actor)
    package = db.scalar(select(SupportPackage).where(SupportPackage.code == package_code))
    if package is None:
        raise Invalid("unknown_package", f"no support package with code {package_code!r}")
    if db.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
        raise Invalid("name_taken", f"an organisation named {name!r} already exists")
    organisation = Organisation(name=name, package=package, created_at=now)
    db.add(organisation)
    db.flush()
    audit.record(
        db=db,
        at=now,
        actor_id=actor.id if actor else None,
        action="organisation.created",
        object_type="organisation",
        object_id=organisation.id,
        organisation_id=organisation.id,
        data={"name": name, "package": package_code},
    )
    return organisation


def create_environment(
    *,
    db: Session,
    actor: User | None,
    organisation: Organisation,
    name: str,
    type: str,
    production: bool,
    product_version: str | None,
    now: datetime,
) -> Environment:
    if actor is not None:
        require_admin(actor)
    if type not in ENVIRONMENT_TYPES:
        raise Invalid("invalid_environment_type", f"type must be one of {ENVIRONMENT_TYPES}")
    taken = db.scalar(
        select(Environment.id).where(
            Environment.organisation_id == organisation.id, Environment.name == name
        )
    )
    if taken is not None:
        raise Invalid("name_taken", f"{organisation.name} already has an environment {name!r}")
    environment = Environment(
        organisation_id=organisation.id,
        name=name,
        type=type,
        production=production,
        product_version=product_version,
        created_at=now,
    )
    db.add(environment)
    db.flush()
    audit.record(
        db=db,
        at=now,
        actor_id=actor.id if actor else None,
        action="environment.created",
        object_type="environment",
        object_id=environment.id,
        organisation_id=organisation.id,
        data={"name": name, "type": type, "production": production},
    )
    return environment


def list_users(*, db: Session, actor: User, organisation: Organisation) -> list[User]:
    if actor.is_customer and actor.role != "customer_admin":
        raise Forbidden("customer_admin_only", "only your organisation's admin may list its users")
    return list(
        db.scalars(select(User).where(User.organisation_id == organisation.id).order_by(User.id))
    )
