"""Jira Cloud (REST API v3) over httpx: issues created and updated with an ADF description,
and their status read back in critdesk's words.

Idempotent create: every issue carries the labels ``critdesk`` and the bug key, so before
creating — and again after a create whose answer was lost — the adapter searches for them.
Jira's search is eventually consistent: an issue created a moment ago may not be found yet,
which is why a lost answer is first waited out with backoff before searching.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from critdesk.adapters.tracker import adf
from critdesk.adapters.tracker.http import RetryPolicy, TrackerHttp, json_or_none, tls_context
from critdesk.adapters.tracker.interface import (
    STATES,
    BugExport,
    ExternalRef,
    ExternalState,
    Ref,
    TrackerError,
)

SUMMARY_LIMIT = 255  # Jira refuses longer summaries
DEFAULT_PRIORITIES = {"S1": "Highest", "S2": "High", "S3": "Medium", "S4": "Low"}
# Status names (lower case) → critdesk state. Deployments add their workflow's own names.
DEFAULT_STATUSES = {
    "new": "new",
    "open": "new",
    "to do": "new",
    "backlog": "new",
    "selected for development": "confirmed",
    "confirmed": "confirmed",
    "accepted": "confirmed",
    "triaged": "confirmed",
    "reopened": "confirmed",
    "in progress": "in_progress",
    "in development": "in_progress",
    "in review": "in_progress",
    "done": "fixed",
    "fixed": "fixed",
    "resolved": "fixed",
    "closed": "fixed",
    "released": "released",
}
# Resolutions that say the issue was closed without a fix win over the status name.
DEFAULT_RESOLUTIONS = {
    "won't do": "wont_fix",
    "won't fix": "wont_fix",
    "cannot reproduce": "wont_fix",
    "incomplete": "wont_fix",
    "declined": "wont_fix",
    "duplicate": "duplicate",
}
# When a status name is unknown, its category still says roughly where the issue is.
CATEGORIES = {"new": "new", "indeterminate": "in_progress", "done": "fixed"}


@dataclass(frozen=True, slots=True)
class JiraMapping:
    statuses: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_STATUSES))
    resolutions: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_RESOLUTIONS))

    @classmethod
    def with_overrides(
        cls, statuses: Mapping[str, str] | None = None, resolutions: Mapping[str, str] | None = None
    ) -> JiraMapping:
        merged = (
            DEFAULT_STATUSES | _lower(statuses or {}),
            DEFAULT_RESOLUTIONS | _lower(resolutions or {}),
        )
        for table in merged:
            unknown = sorted(set(table.values()) - set(STATES))
            if unknown:
                raise ValueError(f"not critdesk bug states: {unknown}")
        return cls(*merged)

    def state(self, fields: Mapping[str, Any]) -> tuple[str, str]:
        """(critdesk state, Jira's own words) for an issue's status, resolution, fix versions."""
        status = fields.get("status") or {}
        name = str(status.get("name") or "")
        resolution = str((fields.get("resolution") or {}).get("name") or "")
        said = f"{name} ({resolution})" if resolution else name
        if resolution.lower() in self.resolutions:
            return self.resolutions[resolution.lower()], said
        category = (status.get("statusCategory") or {}).get("key")
        state = self.statuses.get(name.lower()) or CATEGORIES.get(str(category), "new")
        versions = fields.get("fixVersions") or []
        if state == "fixed" and versions and versions[0].get("released"):
            state = "released"  # done, and its fix version has shipped
        return state, said


def _lower(table: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in table.items()}


class JiraTracker:
    name = "jira"

    def __init__(
        self,
        *,
        base_url: str,
        email: str,
        token: str,
        project: str,
        issue_type: str = "Bug",
        priorities: Mapping[str, str] | None = None,
        mapping: JiraMapping | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.project = project
        self.issue_type = issue_type
        self.priorities = dict(DEFAULT_PRIORITIES if priorities is None else priorities)
        self.mapping = mapping or JiraMapping()
        retry = retry or RetryPolicy()
        credentials = base64.b64encode(f"{email}:{token}".encode()).decode()
        client = httpx.Client(
            base_url=self.base_url,
            auth=httpx.BasicAuth(email, token),
            headers={"Accept": "application/json"},
            timeout=httpx.Timeout(retry.timeout_seconds),
            verify=tls_context(),
        )
        self.http = TrackerHttp(
            tracker=self.name,
            client=client,
            retry=retry,
            describe_error=describe_error,
            secrets=(token, credentials),
            sleep=time.sleep if sleep is None else sleep,
        )

    def __repr__(self) -> str:  # never the token
        return f"JiraTracker({self.base_url!r}, project={self.project!r})"

    def push(self, report: BugExport) -> ExternalRef:
        existing = report.refs.get(self.name)
        if existing is not None:
            return self._update(str(existing), report)
        found = self._find(report.key)
        if found is not None:
            return self._update(str(found.ref), report)
        return self.http.write_once(lambda: self._create(report), lambda: self._find(report.key))

    def _create(self, report: BugExport) -> ExternalRef:
        fields = self.fields(report) | {
            "project": {"key": self.project},
            "issuetype": {"name": self.issue_type},
            "labels": ["critdesk", report.key],
        }
        response = self.http.send(
            "POST", "/rest/api/3/issue", json={"fields": fields}, idempotent=False
        )
        key = str(response.json()["key"])
        return ExternalRef(self.name, key, self.browse_url(key), created=True)

    def _update(self, key: str, report: BugExport) -> ExternalRef:
        # Labels are added, not replaced: development's own labels stay.
        body = {
            "fields": self.fields(report),
            "update": {"labels": [{"add": "critdesk"}, {"add": report.key}]},
        }
        self.http.send("PUT", f"/rest/api/3/issue/{_path(key)}", json=body)
        return ExternalRef(self.name, key, self.browse_url(key), created=False)

    def fields(self, report: BugExport) -> dict[str, Any]:
        title = report.title if len(report.title) <= SUMMARY_LIMIT else report.title[:254] + "…"
        fields: dict[str, Any] = {"summary": title, "description": adf.document(report)}
        priority = self.priorities.get(report.severity)
        if priority:  # a project without priorities on its screens: configure none
            fields["priority"] = {"name": priority}
        return fields

    def _find(self, bug_key: str) -> ExternalRef | None:
        jql = (
            f'project = {_quote(self.project)} AND labels = "critdesk" '
            f"AND labels = {_quote(bug_key)} ORDER BY created ASC"
        )
        params = {"jql": jql, "fields": "summary", "maxResults": "1"}
        issues = self.http.send("GET", "/rest/api/3/search/jql", params=params).json()["issues"]
        if not issues:
            return None
        key = str(issues[0]["key"])
        return ExternalRef(self.name, key, self.browse_url(key), created=False)

    def pull(self, ref: Ref) -> ExternalState:
        key = str(ref)
        params = {"fields": "status,fixVersions,resolution"}
        issue = self.http.send("GET", f"/rest/api/3/issue/{_path(key)}", params=params).json()
        fields = issue.get("fields") or {}
        state, said = self.mapping.state(fields)
        versions = fields.get("fixVersions") or []
        fix_version = str(versions[0]["name"]) if versions else None
        return ExternalState(state, fix_version, said, self.browse_url(key))

    def browse_url(self, key: str) -> str:
        return f"{self.base_url}/browse/{key}"

    def close(self) -> None:
        self.http.client.close()


def describe_error(response: httpx.Response) -> str:
    """Jira's own words: ``errorMessages`` and the per-field ``errors``."""
    body = json_or_none(response)
    messages: list[str] = []
    if isinstance(body, dict):
        messages.extend(str(m) for m in body.get("errorMessages") or [])
        errors = body.get("errors") or {}
        if isinstance(errors, dict):
            messages.extend(f"{name}: {text}" for name, text in errors.items())
    if response.status_code == 401:
        messages.append("check CRITDESK_JIRA_EMAIL and CRITDESK_JIRA_TOKEN")
    return "; ".join(messages) or response.reason_phrase or "no details"


def _quote(value: str) -> str:
    """A JQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _path(key: str) -> str:
    """A stored issue key as one path segment (keys are like CRIT-12)."""
    if not key or "/" in key or "?" in key or "#" in key:
        raise TrackerError("jira", f"not a Jira issue key: {key!r}")
    return key
