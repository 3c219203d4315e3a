"""Trackers without a tracker: an in-memory fake that records calls (for tests) and a
console version that prints what would be sent (the development default)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from critdesk.adapters.tracker import markdown
from critdesk.adapters.tracker.github import labels_for
from critdesk.adapters.tracker.interface import (
    STATES,
    BugExport,
    ExternalRef,
    ExternalState,
    Ref,
    TrackerError,
)


@dataclass
class FakeIssue:
    report: BugExport
    state: str = "new"
    fix_version: str | None = None


@dataclass
class FakeTracker:
    """Issues in a dict. ``calls`` holds ``("push", report)`` and ``("pull", ref)`` in order;
    tests move issues with :meth:`set_state` and make the next call fail with ``fail_next``."""

    name: str = "fake"
    issues: dict[str, FakeIssue] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    fail_next: TrackerError | None = None

    def push(self, report: BugExport) -> ExternalRef:
        self._call("push", report)
        ref = report.refs.get(self.name)
        if ref is not None:
            self._issue(ref).report = report
            return ExternalRef(self.name, ref, self.url(ref), created=False)
        ref = f"FAKE-{len(self.issues) + 1}"
        self.issues[ref] = FakeIssue(report)
        return ExternalRef(self.name, ref, self.url(ref), created=True)

    def pull(self, ref: Ref) -> ExternalState:
        self._call("pull", ref)
        issue = self._issue(ref)
        return ExternalState(issue.state, issue.fix_version, issue.state, self.url(ref))

    def set_state(self, ref: Ref, state: str, fix_version: str | None = None) -> None:
        if state not in STATES:
            raise ValueError(state)
        issue = self._issue(ref)
        issue.state, issue.fix_version = state, fix_version

    def pushed(self) -> list[BugExport]:
        return [args for name, args in self.calls if name == "push"]

    def url(self, ref: Ref) -> str:
        return f"https://tracker.invalid/{self.name}/{ref}"

    def close(self) -> None:
        pass

    def _call(self, name: str, args: Any) -> None:
        self.calls.append((name, args))
        failure, self.fail_next = self.fail_next, None
        if failure is not None:
            raise failure

    def _issue(self, ref: Ref) -> FakeIssue:
        try:
            return self.issues[str(ref)]
        except KeyError:
            raise TrackerError(self.name, f"{ref} not found", status=404) from None


class ConsoleTracker:
    """Prints each issue as it would be filed (title, labels, Markdown body) and keeps it
    under a ``console`` ref, so nothing is sent anywhere while developing."""

    name = "console"

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def push(self, report: BugExport) -> ExternalRef:
        ref = report.refs.get(self.name) or f"console-{report.key}"
        verb = "update" if self.name in report.refs else "create"
        labels = ", ".join(sorted(labels_for(report)))
        print(f"--- would {verb} {ref}: {report.title}", file=self.out)
        print(f"labels: {labels}\n", file=self.out)
        print(markdown.body(report), file=self.out)
        return ExternalRef(self.name, ref, None, created=verb == "create")

    def pull(self, ref: Ref) -> ExternalState:
        # Nothing to ask: the console tracker never moves an issue, so it stays new.
        print(f"--- would read the state of {ref}", file=self.out)
        return ExternalState("new", None, "console", None)

    def close(self) -> None:
        pass
