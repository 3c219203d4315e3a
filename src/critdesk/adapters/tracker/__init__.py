"""External bug trackers: an interface, the Jira Cloud and GitHub Issues adapters, a fake
for tests and a console version for development — and the one place that builds them from
the settings."""

from __future__ import annotations

from typing import TextIO

from pydantic import SecretStr

from critdesk.adapters.tracker.fake import ConsoleTracker, FakeTracker
from critdesk.adapters.tracker.github import GitHubMapping, GitHubTracker
from critdesk.adapters.tracker.http import RetryPolicy
from critdesk.adapters.tracker.interface import (
    STATES,
    BugExport,
    ExternalRef,
    ExternalState,
    Ref,
    Tracker,
    TrackerError,
)
from critdesk.adapters.tracker.jira import JiraMapping, JiraTracker
from critdesk.config import Settings

TRACKERS = ("jira", "github")
REQUIRED = {
    "jira": ("jira_url", "jira_email", "jira_token", "jira_project"),
    "github": ("github_token", "github_repo"),
}

__all__ = [
    "STATES",
    "TRACKERS",
    "BugExport",
    "ConsoleTracker",
    "ExternalRef",
    "ExternalState",
    "FakeTracker",
    "GitHubTracker",
    "JiraTracker",
    "Ref",
    "RetryPolicy",
    "Tracker",
    "TrackerError",
    "configured",
    "missing_settings",
    "tracker_from_settings",
]


def missing_settings(settings: Settings, name: str) -> list[str]:
    """The environment variables a tracker still needs (empty: it is configured)."""
    return [f"CRITDESK_{f.upper()}" for f in REQUIRED[name] if not _given(getattr(settings, f))]


def _given(value: object) -> bool:
    return bool(value.get_secret_value() if isinstance(value, SecretStr) else value)


def configured(settings: Settings) -> list[str]:
    return [name for name in TRACKERS if not missing_settings(settings, name)]


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        retries=settings.tracker_retries,
        backoff_seconds=settings.tracker_backoff_seconds,
        max_retry_after_seconds=settings.tracker_max_retry_after_seconds,
        timeout_seconds=settings.tracker_timeout_seconds,
    )


def tracker_from_settings(settings: Settings, name: str, out: TextIO | None = None) -> Tracker:
    """The named tracker ("jira", "github" or "console"); ValueError when not configured."""
    if name == "console":
        return ConsoleTracker(out)
    if name not in REQUIRED:
        raise ValueError(f"unknown tracker {name!r}: one of jira, github, console")
    missing = missing_settings(settings, name)
    if missing:
        raise ValueError(f"{name} is not configured: set {', '.join(missing)}")
    if name == "jira":
        return _jira(settings)
    return _github(settings)


def _jira(settings: Settings) -> JiraTracker:
    assert settings.jira_url and settings.jira_email and settings.jira_token
    assert settings.jira_project
    return JiraTracker(
        base_url=settings.jira_url,
        email=settings.jira_email,
        token=settings.jira_token.get_secret_value(),
        project=settings.jira_project,
        issue_type=settings.jira_issue_type,
        priorities=settings.jira_priorities,
        mapping=JiraMapping.with_overrides(settings.jira_status_map, settings.jira_resolution_map),
        retry=retry_policy(settings),
    )


def _github(settings: Settings) -> GitHubTracker:
    assert settings.github_token and settings.github_repo
    return GitHubTracker(
        repo=settings.github_repo,
        token=settings.github_token.get_secret_value(),
        api_url=settings.github_api_url,
        mapping=GitHubMapping.with_overrides(settings.github_label_map),
        retry=retry_policy(settings),
    )
