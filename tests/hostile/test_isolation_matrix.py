"""The tenant-isolation matrix, generated from the OpenAPI route table: every route that names
an object × every role × another organisation's (or another case's, or another user's) object
answers 403/404 in the error shape and changes nothing; and no GET route shows a customer
anything of another organisation. A new route fails here until its parameters and its body are
classified below (case routes share SAMPLE_BODIES with tests/test_tenant_isolation.py)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from critdesk.models import metadata
from critdesk.organisation.models import Organisation
from tests.hostile.world import (
    CUSTOMER_ROLES,
    INTERNAL,
    ROLES,
    SAMPLE_BODIES,
    Objects,
    World,
    build_world,
)
from tests.test_tenant_isolation import SAMPLE_BODIES as CASE_BODIES

CAROL = "carol@contoso.example"
PARAM = re.compile(r"\{([a-z_]+)\}")

# How each path parameter names one organisation's object, and whether that object belongs to
# an organisation (True) or to the vendor (False: packages, webhooks, report names).
PARAMETERS: dict[str, tuple[Callable[[World, Objects], Any], bool]] = {
    "ref": (lambda w, o: o.ref, True),
    "request_id": (lambda w, o: o.request_id, True),
    "share_id": (lambda w, o: o.share_id, True),
    "access_id": (lambda w, o: o.access_id if o.access_id is not None else 999_999, True),
    "attachment_id": (lambda w, o: o.attachment_id, True),
    "organisation_id": (lambda w, o: o.organisation_id, True),
    "key": (lambda w, o: o.bug_key, True),
    "notification_id": (lambda w, o: o.notification_ids[0], True),
    "article_id": (lambda w, o: o.article_id, True),
    "code": (lambda w, o: w.package_code, False),
    "endpoint_id": (lambda w, o: w.webhook_id, False),
    "name": (lambda w, o: "sla", False),
}


def addresses_an_organisations_object(method: str, path: str) -> bool:
    """Routes naming an organisation's object; vendor-wide routes that write are in the matrix
    too (customers are refused them whatever they name); vendor-wide reads are left to the
    leak scan, which checks what they show."""
    names = PARAM.findall(path)
    for name in names:
        assert name in PARAMETERS, f"classify the path parameter {{{name}}} of {path}"
    return bool(names) and (method != "GET" or any(PARAMETERS[n][1] for n in names))


# Query parameters a GET route requires, for the leak scan.
QUERY: dict[str, str] = {"text": "outage leak confidential checkout", "q": "outage"}


def routes(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method, operation in operations.items()
    ]


def fill(path: str, world: World, *objects: Objects) -> str:
    """The path with its first parameter naming ``objects[0]``'s object and the others
    ``objects[-1]``'s: one organisation, or a parent of one and children of another."""
    names = PARAM.findall(path)
    for index, name in enumerate(names):
        assert name in PARAMETERS, f"classify the path parameter {{{name}}} of {path}"
        owner = objects[0] if index == 0 else objects[-1]
        path = path.replace(f"{{{name}}}", str(PARAMETERS[name][0](world, owner)), 1)
    return path


def body_for(method: str, path: str, operation: dict[str, Any]) -> tuple[str, Any]:
    """('json', body), ('file', None) or ('none', None) for the route."""
    content = operation.get("requestBody", {}).get("content", {})
    if not content:
        return "none", None
    if "multipart/form-data" in content:
        return "file", None
    if "{ref}" in path:
        suffix = path.split("{ref}", 1)[1]
        assert suffix in CASE_BODIES, f"add a sample body for {method} {path} to SAMPLE_BODIES"
        return "json", CASE_BODIES[suffix]
    assert (method, path) in SAMPLE_BODIES, f"add a sample body for {method} {path} (world.py)"
    return "json", SAMPLE_BODIES[(method, path)]


def send(client: Any, method: str, url: str, headers: dict[str, str], how: tuple[str, Any]) -> Any:
    kind, body = how
    if kind == "file":
        return client.post(url, headers=headers, files={"file": ("planted.log", b"planted")})
    if kind == "json":
        return client.request(method, url, headers=headers, json=body)
    return client.request(method, url, headers=headers)


def snapshot(database: Any) -> dict[str, str]:
    """A digest of every table's rows, to prove a refusal changed nothing (tokens are issued
    before the first one: issuing is audited)."""
    digests = {}
    with database.session(read_only=True) as session:
        for table in metadata.sorted_tables:
            rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
            digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def refused(response: Any) -> bool:
    if response.status_code not in (403, 404):
        return False
    error = response.json().get("error", {})
    return isinstance(error.get("code"), str) and isinstance(error.get("message"), str)


@pytest.fixture
def world(client, login, database) -> World:  # type: ignore[no-untyped-def]
    built = build_world(client, login)
    # The account manager keeps Northwind but not Contoso: Contoso is "another organisation".
    with database.session() as session:
        session.execute(
            update(Organisation)
            .where(Organisation.id == built.contoso.organisation_id)
            .values(account_manager_id=None)
        )
    for email in [*ROLES.values(), CAROL]:
        login(email)  # issuing a token is audited: done before any snapshot is taken
    return built


# Objects every member of the vendor's staff may read, whichever organisation they concern.
STAFF_READS = {("account_manager", "GET", "/api/v1/bugs/{key}")}


def callers(world: World) -> Iterator[tuple[str, str, Objects, Objects]]:
    """(role, e-mail, own objects, another organisation's objects) for every role that belongs
    to an organisation or manages some. Engineers, leads and admins work for every organisation
    by design; the mixed-parent and personal-object matrices below cover them."""
    for role in CUSTOMER_ROLES:
        yield role, ROLES[role], world.northwind, world.contoso
    yield "customer_admin", CAROL, world.contoso, world.northwind  # the other way round
    yield "account_manager", ROLES["account_manager"], world.northwind, world.contoso


def test_every_route_refuses_another_organisations_objects_and_changes_nothing(
    client, app, login, database, world
) -> None:
    table = [(m, p, o) for m, p, o in routes(app) if addresses_an_organisations_object(m, p)]
    assert len(table) >= 40
    before = snapshot(database)
    failures = []
    for method, path, operation in table:
        how = body_for(method, path, operation)
        for role, email, _own, other in callers(world):
            url = fill(path, world, other)
            response = send(client, method, url, login(email), how)
            if (role, method, path) in STAFF_READS:
                # Vendor staff read every bug; the other organisation's case stays hidden.
                assert response.status_code == 200, response.text
                assert other.ref not in response.text and other.marker in response.text
            elif not refused(response):
                failures.append((role, email, method, url, response.status_code, response.text))
        after = snapshot(database)
        changed = [name for name in before if before[name] != after[name]]
        assert not changed, (method, path, changed)
    assert not failures, "\n".join(map(str, failures))


def test_a_childs_id_from_another_case_is_not_found_under_ones_own_case_for_every_role(
    client, app, login, database, world
) -> None:
    table = [(m, p, o) for m, p, o in routes(app) if len(PARAM.findall(p)) >= 2]
    assert len(table) >= 10
    before = snapshot(database)
    failures = []
    for method, path, operation in table:
        how = body_for(method, path, operation)
        for role, email in ROLES.items():
            url = fill(path, world, world.northwind, world.contoso)
            response = send(client, method, url, login(email), how)
            if not refused(response):
                failures.append((role, method, url, response.status_code, response.text))
        after = snapshot(database)
        changed = [name for name in before if before[name] != after[name]]
        assert not changed, (method, path, changed)
    assert not failures, "\n".join(map(str, failures))


def test_another_users_notification_is_not_found_for_every_role(client, app, login, world) -> None:
    personal = [
        (m, p, o)
        for m, p, o in routes(app)
        if "{notification_id}" in p and not p.startswith("/api/v1/admin/")
    ]
    assert personal
    for method, path, operation in personal:
        for role, email in ROLES.items():
            url = fill(path, world, world.contoso)
            response = send(client, method, url, login(email), body_for(method, path, operation))
            assert response.status_code == 404, (role, method, url, response.text)
            assert response.json()["error"]["code"] == "not_found"
    # …and the notification is still unread for its owner.
    carol = client.get("/api/v1/notifications?unread=true", headers=login(CAROL)).json()
    assert world.contoso.notification_ids[0] in [n["id"] for n in carol["items"]]


def forbidden_texts(other: Objects, world: World) -> list[str]:
    """What a customer of another organisation must never read: the other organisation's
    texts, name, case and bug; anything internal."""
    return [
        other.marker,
        other.name,
        other.ref,
        INTERNAL,
        world.internal_bug + '"',
        other.bug_key + '"',
    ]


def query_for(path: str, operation: dict[str, Any]) -> str:
    required = [
        p["name"]
        for p in operation.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    ]
    for name in required:
        assert name in QUERY, f"add a sample value for ?{name}= of GET {path} to QUERY"
    return "&".join(f"{name}={QUERY[name]}" for name in required)


def test_no_get_route_shows_a_customer_anything_of_another_organisation(
    client, app, login, world
) -> None:
    readers = [
        (role, email, own, other)
        for role, email, own, other in callers(world)
        if role in CUSTOMER_ROLES
    ]
    scanned = 0
    for method, path, operation in routes(app):
        if method != "GET":
            continue
        query = query_for(path, operation)
        for role, email, own, other in readers:
            url = fill(path, world, own) + (f"?{query}" if query else "")
            response = client.get(url, headers=login(email))
            assert response.status_code < 500, (url, response.text)
            body = response.text
            leaked = [t for t in forbidden_texts(other, world) if t in body]
            assert not leaked, (role, email, url, leaked)
            scanned += 1
    assert scanned >= 3 * 25


def test_searches_and_lists_with_every_filter_stay_inside_the_organisation(
    client, login, world
) -> None:
    other = world.contoso
    alice = login(ROLES["customer_admin"])
    for url in (
        f"/api/v1/cases?organisation_id={other.organisation_id}",
        f"/api/v1/cases?environment_id={other.environment_id}",
        f"/api/v1/cases?q={other.marker}",
        f"/api/v1/bugs?q={other.marker}",
        f"/api/v1/bugs/similar?text=Leak {other.marker}",
        f"/api/v1/bugs/similar?text=Leak {INTERNAL}",
        "/api/v1/notifications?limit=200",
    ):
        response = client.get(url, headers=alice)
        assert response.status_code in (200, 403, 404, 422), (url, response.text)
        leaked = [t for t in forbidden_texts(other, world) if t in response.text]
        assert not leaked, (url, leaked)
    # The shared bug is visible, with Northwind's case only.
    shared = client.get(f"/api/v1/bugs/{world.shared_bug}", headers=alice).json()
    assert [c["ref"] for c in shared["cases"]] == [world.northwind.ref]


def test_the_snapshot_sees_a_change(client, login, database, world) -> None:
    """The 'nothing changed' proof above is only as good as the snapshot: it must notice."""
    before = snapshot(database)
    comment = {"body": "a real change"}
    url = f"/api/v1/cases/{world.northwind.ref}/comments"
    assert client.post(url, headers=login(ROLES["customer"]), json=comment).status_code == 201
    after = snapshot(database)
    assert [name for name in before if before[name] != after[name]]


def test_the_leak_scan_would_see_a_leak(client, login, world) -> None:
    """Vendor staff read both organisations: the texts the scan looks for are really there."""
    eng = login(ROLES["engineer"])
    cases = client.get("/api/v1/cases?limit=200", headers=eng).text
    case = client.get(f"/api/v1/cases/{world.contoso.ref}", headers=eng).text
    texts = forbidden_texts(world.contoso, world)
    assert all(t in cases + case for t in texts[:4])  # marker, name, ref, internal note
    assert world.internal_bug in client.get("/api/v1/bugs", headers=eng).text


def test_an_internal_bug_is_absent_for_customers_on_every_bug_route(
    client, app, login, database, world
) -> None:
    """A bug linked to no case and not public is the vendor's own: customers never see it."""
    bug_routes = [(m, p, o) for m, p, o in routes(app) if p.startswith("/api/v1/bugs/{key}")]
    assert bug_routes
    before = snapshot(database)
    for method, path, operation in bug_routes:
        url = path.replace("{key}", world.internal_bug)
        for role in CUSTOMER_ROLES:
            response = send(
                client, method, url, login(ROLES[role]), body_for(method, path, operation)
            )
            assert refused(response), (role, method, url, response.text)
    assert snapshot(database) == before
