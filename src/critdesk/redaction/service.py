"""What the desk knows that must be redacted: organisation names, and one organisation's
environments, contacts and host names."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from critdesk.auth.models import STAFF_ROLES, User
from critdesk.errors import Forbidden, NotFound
from critdesk.organisation.models import Environment, Organisation
from critdesk.redaction.rules import KnownTerms, Redacted, redact

# Mail providers shared by everybody: a contact's address there says nothing about the
# organisation's own hosts, so the domain is not taken as the customer's.
PUBLIC_MAIL_DOMAINS = frozenset(
    (
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "mail.com",
        "zoho.com",
        "yandex.com",
        "hey.com",
    )
)


def known_terms(db: Session, organisation_id: int | None) -> KnownTerms:
    """Every organisation's name; with ``organisation_id`` also that organisation's
    environment names, contacts (names and e-mail addresses) and host names (the domains of
    its contacts' e-mail addresses). An unknown ``organisation_id`` is a ``NotFound``."""
    organisations = tuple(db.scalars(select(Organisation.name).order_by(Organisation.id)))
    if organisation_id is None:
        return KnownTerms(organisations=organisations)
    if db.get(Organisation, organisation_id) is None:
        raise NotFound("organisation")
    environments = tuple(
        db.scalars(
            select(Environment.name)
            .where(Environment.organisation_id == organisation_id)
            .order_by(Environment.id)
        )
    )
    contacts = db.execute(
        select(User.name, User.email)
        .where(User.organisation_id == organisation_id)
        .order_by(User.id)
    ).all()
    domains = sorted(
        {email.rsplit("@", 1)[-1].lower() for _, email in contacts if "@" in email}
        - PUBLIC_MAIL_DOMAINS
    )
    return KnownTerms(
        organisations=organisations,
        contacts=tuple(name for name, _ in contacts if name),
        emails=tuple(email for _, email in contacts),
        environments=environments,
        hostnames=tuple(domains),
    )


def require_vendor_staff(actor: User) -> None:
    if actor.role not in STAFF_ROLES:
        raise Forbidden("vendor_staff_only", "only the vendor's staff may use the redactor")


def redact_text(*, db: Session, actor: User, text: str, organisation_id: int | None) -> Redacted:
    """``POST /api/v1/redact``: vendor staff redact a text with what the desk knows."""
    require_vendor_staff(actor)
    return redact(text, known_terms(db, organisation_id))
