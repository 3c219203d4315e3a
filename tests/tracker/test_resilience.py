"""Both adapters under failure: backoff on 429/5xx and lost connections, Retry-After
honoured, no second issue after a create whose answer was lost, and no secret anywhere."""

from __future__ import annotations

import logging
import socket
from base64 import b64encode
from dataclasses import dataclass
from typing import Any

import pytest

from critdesk.adapters.tracker import RetryPolicy, TrackerError
from tests.tracker.conftest import FAST, sample_report
from tests.tracker.fake_github import GITHUB_TOKEN
from tests.tracker.fake_jira import JIRA_EMAIL, JIRA_TOKEN
from tests.tracker.servers import FakeServer


@dataclass
class Target:
    """One adapter and its server, described alike for both trackers."""

    server: FakeServer
    make: Any
    create: str  # the path a create is posted to
    search: str  # the path searched for an issue of the bug
    issue: str  # the path of the first issue
    ref: Any
    authorization: str  # the header the adapter sends: it must never show up anywhere


@pytest.fixture(params=["jira", "github"])
def target(request) -> Target:  # type: ignore[no-untyped-def]
    if request.param == "jira":
        server = request.getfixturevalue("jira")
        return Target(
            server,
            request.getfixturevalue("make_jira"),
            "/rest/api/3/issue",
            "/rest/api/3/search/jql",
            "/rest/api/3/issue/CRIT-1",
            "CRIT-1",
            "Basic " + b64encode(f"{JIRA_EMAIL}:{JIRA_TOKEN}".encode()).decode(),
        )
    server = request.getfixturevalue("github")
    issues = "/repos/acme/product/issues"
    return Target(
        server,
        request.getfixturevalue("make_github"),
        issues,
        issues,
        f"{issues}/1",
        1,
        f"Bearer {GITHUB_TOKEN}",
    )


def test_a_503_then_success_is_retried_with_exponential_backoff(target, sleeps) -> None:
    tracker = target.make()
    tracker.push(sample_report())
    target.server.then("GET", target.issue, status=503)
    target.server.then("GET", target.issue, status=502)
    assert tracker.pull(target.ref).state == "new"
    assert target.server.count("GET", target.issue) == 3
    # Waits double (with jitter between half and all of each step).
    assert len(sleeps) == 2
    assert 0.005 <= sleeps[0] <= 0.01 and 0.01 <= sleeps[1] <= 0.02


def test_a_429_waits_as_long_as_retry_after_says(target, sleeps) -> None:
    target.server.then("GET", target.search, status=429, headers={"Retry-After": "3"})
    ref = target.make().push(sample_report())
    assert ref.ref == target.ref and len(target.server.issues) == 1
    assert sleeps == [3.0]


def test_a_retry_after_too_long_to_wait_fails_as_retryable(target, sleeps) -> None:
    target.server.then("GET", target.search, status=429, headers={"Retry-After": "3600"})
    with pytest.raises(TrackerError) as limited:
        target.make().push(sample_report())
    assert limited.value.retryable and "wait 3600 s" in str(limited.value)
    assert sleeps == [] and target.server.count("POST") == 0


def test_a_create_whose_answer_is_lost_is_not_made_twice(target, sleeps) -> None:
    target.server.then("POST", target.create, drop=True)  # created, then the line goes dead
    ref = target.make().push(sample_report())
    assert ref.ref == target.ref
    assert len(target.server.issues) == 1
    assert target.server.count("POST") == 1  # found by its label/marker, not created again
    assert target.server.calls()[-1] == ("GET", target.search)


def test_a_create_answered_with_a_5xx_is_looked_for_before_it_is_sent_again(target, sleeps) -> None:
    target.server.then("POST", target.create, status=503, headers={"Retry-After": "1"})
    ref = target.make().push(sample_report())
    assert ref.ref == target.ref and len(target.server.issues) == 1
    assert target.server.count("POST") == 2  # it had not been created, so it is sent again
    assert target.server.count("GET", target.search) == 2
    assert sleeps[0] >= 1.0  # Retry-After honoured for the write too


def test_a_slow_answer_times_out_and_the_create_is_found(target, sleeps) -> None:
    slow = RetryPolicy(retries=2, backoff_seconds=0.01, timeout_seconds=0.2)
    target.server.then("POST", target.create, delay=0.6)
    ref = target.make(retry=slow).push(sample_report())
    assert ref.ref == target.ref
    assert len(target.server.issues) == 1 and target.server.count("POST") == 1


def test_it_gives_up_after_its_retries_and_says_so(target, sleeps) -> None:
    tracker = target.make()
    tracker.push(sample_report())
    for _ in range(FAST.retries + 1):
        target.server.then("GET", target.issue, status=500)
    with pytest.raises(TrackerError) as failed:
        tracker.pull(target.ref)
    assert failed.value.retryable
    assert "answered 500; gave up after 4 attempts" in str(failed.value)
    assert target.server.count("GET", target.issue) == 4 and len(sleeps) == 3


def test_an_unreachable_tracker_is_retried_then_reported(target, sleeps) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    tracker = target.make(**({"base_url": url} if target.ref == "CRIT-1" else {"api_url": url}))
    with pytest.raises(TrackerError, match="could not connect") as failed:
        tracker.pull(target.ref)
    assert failed.value.retryable and len(sleeps) == FAST.retries


def test_a_tracker_that_echoes_credentials_never_gets_them_into_errors_or_logs(
    target, sleeps, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    # A misbehaving proxy that quotes the request's Authorization header back.
    echo = f"bad header: {target.authorization}"
    body = {"errorMessages": [echo]} if target.ref == "CRIT-1" else {"message": echo}
    target.server.then("GET", target.search, status=400, body=body)
    with pytest.raises(TrackerError) as refused:
        target.make().push(sample_report())
    assert "bad header: " in str(refused.value) and "***" in str(refused.value)
    secret = target.authorization.split()[1]
    assert secret not in str(refused.value) + repr(refused.value)
    assert secret not in caplog.text
