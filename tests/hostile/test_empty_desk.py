"""A desk before anything is set up — a migrated database with no package, organisation or
case, only staff — answers every page and every read of its API without a server error."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from critdesk.auth import service as auth
from tests.auth.test_pages import open_web_session

STAFF_ROLES = ("engineer", "lead", "account_manager", "admin")


def pages(app: Any) -> list[str]:
    """The reads outside the OpenAPI document (the web UI's pages, the metrics) that take no
    path parameter, from the route table: a new page is tested without being listed here."""
    return sorted(
        context.path
        for context in iter_route_contexts(app.routes)
        if isinstance(route := context.original_route, APIRoute)
        and "GET" in route.methods
        and not route.include_in_schema
        and "{" not in context.path
    )


def api_reads(app: Any) -> list[str]:
    return sorted(
        path
        for path, operations in app.openapi()["paths"].items()
        if "get" in operations and "{" not in path
    )


@pytest.fixture
def staff(database, clock) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A bearer token for one user of every staff role, in a database the demo never filled."""
    tokens = {}
    with database.session() as db:
        for role in STAFF_ROLES:
            user = auth.create_user(
                db=db,
                email=f"{role}@vendor.example",
                name=role.replace("_", " ").title(),
                role=role,
                password=None,
                organisation_id=None,
                now=clock.now,
            )
            tokens[role] = auth.issue_token(db=db, user=user, name="test", now=clock.now)
    return tokens


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_every_read_of_an_empty_desk_answers_without_a_server_error(  # type: ignore[no-untyped-def]
    client, app, staff, role
) -> None:
    headers = {"Authorization": f"Bearer {staff[role]}"}
    paths = api_reads(app)
    assert "/api/v1/queue" in paths and len(paths) > 10
    failures = {}
    for path in paths:
        answer = client.get(path, headers=headers)
        if answer.status_code >= 500:
            failures[path] = answer.text[:200]
    assert failures == {}


def test_an_empty_desks_queue_is_an_empty_page(client, staff) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/api/v1/queue", headers={"Authorization": f"Bearer {staff['engineer']}"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_every_page_of_an_empty_desk_answers_without_a_server_error(  # type: ignore[no-untyped-def]
    client, app, database, clock, staff, role
) -> None:
    paths = pages(app)
    assert {"/", "/queue", "/cases", "/reports", "/bugs/new"} <= set(paths), paths
    open_web_session(client, database, clock, f"{role}@vendor.example")
    answers = {path: client.get(path, follow_redirects=False) for path in paths}
    assert {p: a.text[:200] for p, a in answers.items() if a.status_code >= 500} == {}
    # Signed in: the pages are shown (or refused by role), not sent back to the login page.
    shown = [p for p, a in answers.items() if a.status_code == 200]
    assert "/queue" in shown or role == "account_manager", answers["/queue"].status_code
    assert not [p for p, a in answers.items() if "/login" in a.headers.get("location", "")]
