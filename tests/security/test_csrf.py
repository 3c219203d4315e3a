"""CSRF on every form: generated from the route table and the templates, so that a new page
is covered the day it is added.

- every form-handling page route (a non-API POST, PUT, PATCH or DELETE) refuses a request
  without the session's CSRF token, or with a wrong one, with 403 — and nothing in the
  database changes;
- every ``<form method="post">`` in the templates carries the ``csrf_token`` field, and every
  such form on the rendered pages carries the viewer's own token.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from critdesk.models import metadata
from critdesk.templating import TEMPLATE_DIR
from tests.auth.test_pages import open_web_session
from tests.case.test_api import ALICE, ENG1

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def form_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path template) of every state-changing route outside the JSON API."""
    found = set()
    for route in iter_route_contexts(app.routes):
        path, methods = route.path or "", route.methods or set()
        if path.startswith("/api/"):
            continue
        for method in methods & UNSAFE:
            found.add((method, path))
    return sorted(found)


def fill(path: str, objects: dict[str, str]) -> str:
    """The path with real objects' ids; a parameter without a sample gets "1" (the token is
    checked before anything is looked up, so any well-formed value must be refused alike;
    a route that looks up first needs a sample in conftest.objects)."""

    def value(match: re.Match[str]) -> str:
        return objects.get(match.group(1), "1")

    return _PARAM.sub(value, path)


def snapshot(database: Any) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, as text: any insert, update or delete shows."""
    rows = {}
    with database.session(read_only=True) as db:
        for table in metadata.sorted_tables:
            ordered = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(map(str, row)) for row in db.execute(ordered)]
    return rows


def test_the_route_table_has_the_forms_we_know_of(app) -> None:
    routes = form_routes(app)
    assert len(routes) >= 25
    assert ("POST", "/login") in routes and ("POST", "/cases/{ref}/actions/{action}") in routes


def test_every_form_route_refuses_a_missing_or_wrong_csrf_token(
    app, client, database, clock, objects
) -> None:
    token = open_web_session(client, database, clock, ENG1)
    before = snapshot(database)
    refused = []
    for method, template in form_routes(app):
        path = fill(template, objects)
        for sent in (None, "forged-" + token[:20]):
            data = {"message": "hello", "body": "hello", "title": "x"}
            if sent is not None:
                data["csrf_token"] = sent
            response = client.request(
                method,
                path,
                data=data,
                files={"file": ("server.log", b"ERROR boom\n", "text/plain")},
                follow_redirects=False,
            )
            assert response.status_code == 403, (method, path, sent, response.status_code)
            refused.append(path)
    assert snapshot(database) == before
    assert len(refused) == 2 * len(form_routes(app))


def test_without_a_session_a_form_changes_nothing(app, client, database, objects) -> None:
    before = snapshot(database)
    for method, template in form_routes(app):
        response = client.request(
            method, fill(template, objects), data={"csrf_token": "x"}, follow_redirects=False
        )
        assert response.status_code in (303, 401, 403), (template, response.status_code)
    assert snapshot(database) == before


# --- the templates ------------------------------------------------------------------------------

_FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.DOTALL | re.IGNORECASE)
_POST = re.compile(r"""method\s*=\s*["']?post""", re.IGNORECASE)
_TOKEN = re.compile(r"""m\.csrf\(\)|name\s*=\s*["']csrf_token["']""")


def test_every_post_form_in_the_templates_has_the_csrf_field() -> None:
    forms = 0
    for template in sorted(Path(TEMPLATE_DIR).rglob("*.html")):
        for form in _FORM.findall(template.read_text()):
            opening = form.split(">", 1)[0]
            if not _POST.search(opening):
                continue
            forms += 1
            name = template.relative_to(TEMPLATE_DIR)
            assert _TOKEN.search(form), f"{name}: a POST form without csrf_token: {opening}>"
    assert forms >= 30


class Forms(HTMLParser):
    """The POST forms of a page and the csrf_token each carries."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._open: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and (values.get("method") or "get").lower() == "post":
            self._open = {"action": values.get("action"), "tokens": []}
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and values.get("name") == "csrf_token":
            self._open["tokens"].append(values.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def post_forms(html: str) -> list[dict[str, Any]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def test_every_rendered_post_form_carries_the_viewers_token(
    client, database, clock, objects
) -> None:
    ref, key = objects["ref"], objects["key"]
    pages = {
        ENG1: ["/queue", "/cases", f"/cases/{ref}", "/bugs", f"/bugs/{key}", "/bugs/new", "/phone"],
        ALICE: ["/cases", "/cases/new", f"/cases/{ref}"],
    }
    seen = 0
    for email, paths in pages.items():
        token = open_web_session(client, database, clock, email)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (email, path, response.status_code)
            for form in post_forms(response.text):
                assert form["tokens"] == [token], (email, path, form)
                seen += 1
    assert seen >= 20
