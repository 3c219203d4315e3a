"""GitHub Issues (REST API 2022-11-28) over httpx: issues created and updated with a Markdown
body, and their state read back in critdesk's words.

Idempotent create: every body starts with a hidden ``<!-- critdesk:BUG-12 -->`` marker, so
before creating — and again after a create whose answer was lost — the adapter lists the
repository's newest ``critdesk`` issues (a consistent read, unlike GitHub's search index) and
looks for the marker. A label per bug would also work but would fill the repository's label
list with one label per bug.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from critdesk.adapters.tracker import markdown
from critdesk.adapters.tracker.http import RetryPolicy, TrackerHttp, json_or_none, tls_context
from critdesk.adapters.tracker.interface import (
    STATES,
    BugExport,
    ExternalRef,
    ExternalState,
    Ref,
    TrackerError,
)

API_VERSION = "2022-11-28"
REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
# How far back the search for a lost create looks: a lost answer is seconds old.
RECENT_ISSUES = 100
# Label names (lower case) → critdesk state.
DEFAULT_LABELS = {
    "confirmed": "confirmed",
    "in-progress": "in_progress",
    "in progress": "in_progress",
    "fixed": "fixed",
    "released": "released",
    "duplicate": "duplicate",
    "wontfix": "wont_fix",
    "won't fix": "wont_fix",
}
# With several such labels, the furthest along wins.
PRECEDENCE = ("duplicate", "wont_fix", "released", "fixed", "in_progress", "confirmed")


@dataclass(frozen=True, slots=True)
class GitHubMapping:
    labels: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LABELS))

    @classmethod
    def with_overrides(cls, labels: Mapping[str, str] | None = None) -> GitHubMapping:
        merged = DEFAULT_LABELS | {k.lower(): v for k, v in (labels or {}).items()}
        unknown = sorted(set(merged.values()) - set(STATES))
        if unknown:
            raise ValueError(f"not critdesk bug states: {unknown}")
        return cls(merged)

    def state(self, issue: Mapping[str, Any]) -> tuple[str, str]:
        """(critdesk state, GitHub's own words) for an issue's state, reason, labels and
        milestone."""
        names = [str(label.get("name", "")) for label in issue.get("labels") or []]
        said_by_labels = {self.labels[n.lower()] for n in names if n.lower() in self.labels}
        reason = issue.get("state_reason")
        milestone = issue.get("milestone") or {}
        said = str(issue.get("state")) + (f" ({reason})" if reason else "")
        said += f" [{', '.join(names)}]" if names else ""
        if issue.get("state") != "closed":
            return next((s for s in PRECEDENCE if s in said_by_labels), "new"), said
        if reason == "duplicate" or "duplicate" in said_by_labels:
            return "duplicate", said
        if reason == "not_planned" or "wont_fix" in said_by_labels:
            return "wont_fix", said
        # Completed; a closed milestone is a release that has shipped.
        shipped = "released" in said_by_labels or milestone.get("state") == "closed"
        return ("released" if shipped else "fixed"), said


class GitHubTracker:
    name = "github"

    def __init__(
        self,
        *,
        repo: str,
        token: str,
        api_url: str = "https://api.github.com",
        mapping: GitHubMapping | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if not REPO.fullmatch(repo):
            raise ValueError(f"a GitHub repository is owner/name, not {repo!r}")
        self.repo = repo
        self.api_url = api_url.rstrip("/")
        self.mapping = mapping or GitHubMapping()
        retry = retry or RetryPolicy()
        client = httpx.Client(
            base_url=self.api_url,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
            timeout=httpx.Timeout(retry.timeout_seconds),
            verify=tls_context(),
        )
        self.http = TrackerHttp(
            tracker=self.name,
            client=client,
            retry=retry,
            describe_error=describe_error,
            secrets=(token,),
            sleep=time.sleep if sleep is None else sleep,
        )

    def __repr__(self) -> str:  # never the token
        return f"GitHubTracker({self.api_url!r}, repo={self.repo!r})"

    @property
    def issues_path(self) -> str:
        return f"/repos/{self.repo}/issues"

    def push(self, report: BugExport) -> ExternalRef:
        existing = report.refs.get(self.name)
        if existing is not None:
            return self._update(_number(existing), report)
        found = self._find(report.key)
        if found is not None:
            return self._update(_number(found.ref), report)
        return self.http.write_once(lambda: self._create(report), lambda: self._find(report.key))

    def _create(self, report: BugExport) -> ExternalRef:
        payload = {
            "title": report.title,
            "body": markdown.body(report),
            "labels": sorted(labels_for(report)),
        }
        issue = self.http.send("POST", self.issues_path, json=payload, idempotent=False).json()
        return ExternalRef(self.name, int(issue["number"]), issue.get("html_url"), created=True)

    def _update(self, number: int, report: BugExport) -> ExternalRef:
        payload = {"title": report.title, "body": markdown.body(report)}
        path = f"{self.issues_path}/{number}"
        issue = self.http.send("PATCH", path, json=payload).json()
        # Labels are sent whole on GitHub: keep development's own, swap a changed severity.
        current = [str(label["name"]) for label in issue.get("labels") or []]
        wanted = labels_for(report)
        kept = [n for n in current if not n.startswith("severity:") or n in wanted]
        labels = kept + sorted(wanted - set(kept))
        if labels != current:
            self.http.send("PATCH", path, json={"labels": labels})
        return ExternalRef(self.name, number, issue.get("html_url"), created=False)

    def _find(self, bug_key: str) -> ExternalRef | None:
        params = {
            "labels": "critdesk",
            "state": "all",
            "sort": "created",
            "direction": "desc",
            "per_page": str(RECENT_ISSUES),
        }
        issues = self.http.send("GET", self.issues_path, params=params).json()
        mark = markdown.marker(bug_key)
        for issue in issues:
            body = issue.get("body") or ""
            if "pull_request" not in issue and body.startswith(mark):
                return ExternalRef(self.name, int(issue["number"]), issue.get("html_url"), False)
        return None

    def pull(self, ref: Ref) -> ExternalState:
        issue = self.http.send("GET", f"{self.issues_path}/{_number(ref)}").json()
        state, said = self.mapping.state(issue)
        milestone = issue.get("milestone") or {}
        fix_version = milestone.get("title") or None
        return ExternalState(state, fix_version, said, issue.get("html_url"))

    def close(self) -> None:
        self.http.client.close()


def labels_for(report: BugExport) -> set[str]:
    return {"critdesk", f"severity:{report.severity}"}


def describe_error(response: httpx.Response) -> str:
    """GitHub's own words: ``message`` and each entry of ``errors``."""
    body = json_or_none(response)
    parts: list[str] = []
    if isinstance(body, dict):
        if body.get("message"):
            parts.append(str(body["message"]))
        for error in body.get("errors") or []:
            parts.append(_describe_one(error))
    if response.status_code == 401:
        parts.append("check CRITDESK_GITHUB_TOKEN")
    elif response.status_code == 404:
        parts.append("check CRITDESK_GITHUB_REPO and that the token may see it")
    return "; ".join(parts) or response.reason_phrase or "no details"


def _describe_one(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    if error.get("message"):
        return str(error["message"])
    where = ".".join(str(error[k]) for k in ("resource", "field") if error.get(k))
    return f"{where} {error.get('code', 'invalid')}".strip()


def _number(ref: Ref) -> int:
    try:
        return int(ref)
    except (TypeError, ValueError):
        raise TrackerError("github", f"not a GitHub issue number: {ref!r}") from None
