"""Nothing important lives in one process: two apps on one database (two API processes behind
a load balancer) share sessions, CSRF tokens, login throttling, rate limits and idempotency.
(Similar-bug search across processes: tests/bug/test_api.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from critdesk.app import create_app
from tests.auth.test_pages import BROWSER, csrf_of, submit_login
from tests.case.test_api import ALICE, env_id, outage


@pytest.fixture
def twins(settings, clock, database, demo) -> Iterator[tuple[TestClient, TestClient]]:
    """Two separately built apps, as two server processes would hold them."""
    limited = settings.model_copy(
        update={"rate_limit_cases_per_minute": 2, "login_max_failures": 3}
    )
    first = TestClient(create_app(limited, clock=clock, database=database))
    second = TestClient(create_app(limited, clock=clock, database=database))
    with first, second:
        yield first, second


def test_a_session_opened_on_one_process_works_on_the_other(twins) -> None:
    first, second = twins
    response = submit_login(first, ALICE)
    assert response.status_code == 303
    second.cookies.update(first.cookies)
    second.headers.update(BROWSER)
    page = second.get("/cases")
    assert page.status_code == 200
    # The CSRF token shown by one process is the one the other checks.
    token = csrf_of(first.get("/cases").text)
    assert csrf_of(page.text) == token


def test_failed_logins_count_across_processes(twins) -> None:
    first, second = twins
    for client in (first, second, first):
        assert submit_login(client, ALICE, password="wrong-password-1").status_code == 200
    throttled = submit_login(second, ALICE)  # even the right password, now
    assert throttled.status_code == 429
    assert "Too many failed attempts" in throttled.text


def test_rate_limits_are_one_counter_for_all_processes(twins, login) -> None:
    first, second = twins
    alice = login(ALICE)
    body = outage(env_id(first, alice, "nw-prod"))
    statuses = [c.post("/api/v1/cases", headers=alice, json=body).status_code for c in twins]
    assert statuses == [201, 201]
    refused = first.post("/api/v1/cases", headers=alice, json=body)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert second.post("/api/v1/cases", headers=alice, json=body).status_code == 429


def test_a_retry_landing_on_another_process_is_replayed_not_repeated(twins, login) -> None:
    first, second = twins
    alice = login(ALICE)
    headers: dict[str, Any] = alice | {"Idempotency-Key": "retry-across-1"}
    body = outage(env_id(first, alice, "nw-prod"))
    made = first.post("/api/v1/cases", headers=headers, json=body)
    again = second.post("/api/v1/cases", headers=headers, json=body)
    assert made.status_code == again.status_code == 201
    assert made.json()["ref"] == again.json()["ref"]
    assert again.headers.get("idempotent-replayed") == "true"
