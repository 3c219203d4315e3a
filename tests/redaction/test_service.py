"""What the desk knows that must be redacted, read from the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from critdesk.db import Database
from critdesk.errors import NotFound
from critdesk.organisation.models import Organisation
from critdesk.redaction.service import known_terms

pytestmark = pytest.mark.usefixtures("demo")


def _org_id(database: Database, name: str) -> int:
    with database.session(read_only=True) as session:
        return session.scalars(select(Organisation.id).where(Organisation.name == name)).one()


def test_without_an_organisation_it_knows_every_organisation_name_only(
    database: Database,
) -> None:
    with database.session(read_only=True) as session:
        known = known_terms(session, None)
    assert set(known.organisations) == {
        "Northwind Insurance",
        "Contoso Health",
        "Fabrikam Retail",
        "Tailspin Travel",
    }
    assert known.contacts == known.emails == known.environments == known.hostnames == ()


def test_with_an_organisation_it_adds_its_environments_contacts_and_hosts(
    database: Database,
) -> None:
    northwind = _org_id(database, "Northwind Insurance")
    with database.session(read_only=True) as session:
        known = known_terms(session, northwind)
    assert len(known.organisations) == 4
    assert known.environments == ("nw-prod", "nw-uat")
    assert set(known.contacts) == {"Alice Northwind", "Bob Northwind"}
    assert set(known.emails) == {"alice@northwind.example", "bob@northwind.example"}
    assert known.hostnames == ("northwind.example",)


def test_an_unknown_organisation_is_not_found(database: Database) -> None:
    with database.session(read_only=True) as session, pytest.raises(NotFound):
        known_terms(session, 999_999)
