"""Fixtures for the tracker tests: the local Jira and GitHub servers (one per test module,
emptied before each test), adapters pointed at them with fast retries, and a sample report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from critdesk.adapters.tracker import BugExport, GitHubTracker, JiraTracker, RetryPolicy
from tests.tracker.fake_github import GITHUB_REPO, GITHUB_TOKEN, FakeGitHub
from tests.tracker.fake_jira import JIRA_EMAIL, JIRA_PROJECT, JIRA_TOKEN, FakeJira

# Retries as in production, but waits are recorded instead of slept (see ``sleeps``).
FAST = RetryPolicy(retries=3, backoff_seconds=0.01, max_retry_after_seconds=5, timeout_seconds=2)

TRACE = """java.lang.IllegalStateException: pool exhausted
    at com.acme.runtime.Pool.borrow(Pool.java:88)
    at com.acme.runtime.RestCall.execute(RestCall.java:41)
    ... 12 more"""


def sample_report(**overrides: Any) -> BugExport:
    values: dict[str, Any] = {
        "key": "BUG-12",
        "title": "Connection pool leaks after failed REST calls",
        "description": "Each failed outbound REST call leaves a connection checked out.\n"
        "Seen with @platform-team on call.",
        "steps_to_reproduce": "1. Call a REST service that times out 50 times\n2. Watch the pool",
        "expected": "Connections return to the pool",
        "actual": f"The pool is exhausted:\n\n{TRACE}",
        "affected_versions": ("10.4.2",),
        "environment": {
            "deployment_type": "cloud",
            "product_version": "10.4.2",
            "database": "PostgreSQL 15",
            "production": True,
        },
        "severity": "S1",
        "product": "Platform",
        "component": "Runtime",
        "signatures": ("IllegalStateException: pool exhausted @ Pool.borrow",),
        "public": False,
        "linked_cases": 2,
    }
    return BugExport(**(values | overrides))


class Sleeps(list[float]):
    """Stands in for time.sleep: records each wait so tests can check the backoff."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture(scope="module")
def jira_server() -> Iterator[FakeJira]:
    server = FakeJira().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def github_server() -> Iterator[FakeGitHub]:
    server = FakeGitHub().start()
    yield server
    server.stop()


@pytest.fixture
def jira(jira_server: FakeJira) -> FakeJira:
    jira_server.reset()
    return jira_server


@pytest.fixture
def github(github_server: FakeGitHub) -> FakeGitHub:
    github_server.reset()
    return github_server


@pytest.fixture
def make_jira(jira: FakeJira, sleeps: Sleeps) -> Iterator[Callable[..., JiraTracker]]:
    made: list[JiraTracker] = []

    def _make(**overrides: Any) -> JiraTracker:
        options: dict[str, Any] = {
            "base_url": jira.url,
            "email": JIRA_EMAIL,
            "token": JIRA_TOKEN,
            "project": JIRA_PROJECT,
            "retry": FAST,
            "sleep": sleeps,
        }
        made.append(JiraTracker(**(options | overrides)))
        return made[-1]

    yield _make
    for tracker in made:
        tracker.close()


@pytest.fixture
def make_github(github: FakeGitHub, sleeps: Sleeps) -> Iterator[Callable[..., GitHubTracker]]:
    made: list[GitHubTracker] = []

    def _make(**overrides: Any) -> GitHubTracker:
        options: dict[str, Any] = {
            "api_url": github.url,
            "repo": GITHUB_REPO,
            "token": GITHUB_TOKEN,
            "retry": FAST,
            "sleep": sleeps,
        }
        made.append(GitHubTracker(**(options | overrides)))
        return made[-1]

    yield _make
    for tracker in made:
        tracker.close()
