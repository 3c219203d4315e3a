"""Schemathesis against the app's own OpenAPI document: every operation, as every role, answers
without a server error, with a documented status and a body that fits its documented schema."""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from critdesk.app import create_app
from critdesk.config import Settings
from tests.hostile.conftest import Desk
from tests.hostile.world import ROLES, SAMPLE_BODIES
from tests.test_tenant_isolation import SAMPLE_BODIES as CASE_BODIES

# Generated requests per operation, each sent as every role: six times as many requests.
EXAMPLES = 10
# CRITDESK_SCHEMA_STATUSES=<file> logs every answer's status, to see how deep the examples go.
STATUSES = (
    Path(os.environ["CRITDESK_SCHEMA_STATUSES"])
    if "CRITDESK_SCHEMA_STATUSES" in os.environ
    else None
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def openapi_document() -> dict[str, Any]:
    """The document as the app serves it; building it touches no database."""
    scratch = Path(tempfile.gettempdir()) / "critdesk-openapi"
    app = create_app(
        Settings(
            data_dir=scratch,
            database_url=f"sqlite:///{scratch / 'never-opened.sqlite3'}",
            secret_key="openapi-only",
            embedded_jobs=False,
            search_warmup=False,
        )
    )
    return app.openapi()


schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture
def served(backend: str, request: pytest.FixtureRequest) -> Iterator[Desk]:
    # A fresh database per operation is a file copy on SQLite; on PostgreSQL it would cost more
    # than the whole run may take, so the schema tests run on SQLite (the isolation matrix and
    # the regressions run on both).
    if backend != "sqlite":
        pytest.skip("the schema tests run on SQLite only")
    desk: Desk = request.getfixturevalue("desk")
    yield desk
    # Schemathesis keeps every app it started alive for the process; stop this one now.
    shutdown_lifespans()


def sample_body(method: str, path: str) -> Any:
    """A known-valid body for the operation, if the isolation tests keep one."""
    if "{ref}" in path and method != "GET":
        return CASE_BODIES.get(path.split("{ref}", 1)[1])
    return SAMPLE_BODIES.get((method, path))


def aim(case: Any, data: st.DataObject, desk: Desk) -> None:
    """Mostly point path parameters at real objects (either organisation's, demo cases in every
    state) and sometimes send a known-valid body, so that generated input gets past lookups and
    validation into the services; the rest stays as generated."""
    targets = desk.world.targets()
    for name in list(case.path_parameters or {}):
        choices = targets.get(name)
        if choices and data.draw(st.sampled_from((True, True, False)), label=f"aim {name}"):
            case.path_parameters[name] = data.draw(st.sampled_from(choices), label=name)
    body = sample_body(case.method.upper(), case.path)
    if body is not None and data.draw(st.booleans(), label="sample body"):
        case.body = copy.deepcopy(body)


@schema.parametrize()
@schema.given(data=st.data())
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_every_role_within_its_documented_schema(
    case: Any, data: st.DataObject, backend: str, served: Desk
) -> None:
    aim(case, data, served)
    for role, email in ROLES.items():
        try:
            response = case.call_and_validate(
                app=served.app, headers=served.headers(email), checks=CHECKS
            )
            if STATUSES is not None:
                with STATUSES.open("a") as log:
                    log.write(f"{case.method} {case.path} {role} {response.status_code}\n")
        except Exception as error:
            error.add_note(f"as {role} ({email})")
            raise
