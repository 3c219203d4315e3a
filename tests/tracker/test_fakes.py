"""The fake tracker that other tests use, and the console tracker of development."""

from __future__ import annotations

import io

import pytest

from critdesk.adapters.tracker import ConsoleTracker, FakeTracker, TrackerError
from tests.tracker.conftest import sample_report


def test_the_fake_records_calls_and_moves_issues_on_request() -> None:
    fake = FakeTracker(name="jira")
    ref = fake.push(sample_report())
    assert (ref.tracker, ref.ref, ref.created) == ("jira", "FAKE-1", True)
    again = fake.push(sample_report(refs={"jira": "FAKE-1"}))
    assert again.created is False and len(fake.issues) == 1
    fake.set_state("FAKE-1", "fixed", "10.4.3")
    pulled = fake.pull("FAKE-1")
    assert (pulled.state, pulled.fix_version) == ("fixed", "10.4.3")
    assert [name for name, _ in fake.calls] == ["push", "push", "pull"]
    assert [r.key for r in fake.pushed()] == ["BUG-12", "BUG-12"]


def test_the_fake_fails_once_when_told_to() -> None:
    fake = FakeTracker()
    fake.fail_next = TrackerError("fake", "down", status=503, retryable=True)
    with pytest.raises(TrackerError, match="down"):
        fake.push(sample_report())
    assert fake.push(sample_report()).ref == "FAKE-1"
    with pytest.raises(TrackerError) as missing:
        fake.pull("FAKE-9")
    assert missing.value.status == 404


def test_the_console_tracker_prints_what_it_would_file() -> None:
    out = io.StringIO()
    console = ConsoleTracker(out)
    ref = console.push(sample_report())
    assert (ref.tracker, ref.ref, ref.created) == ("console", "console-BUG-12", True)
    printed = out.getvalue()
    assert "would create console-BUG-12: Connection pool leaks" in printed
    assert "labels: critdesk, severity:S1" in printed and "## Steps to reproduce" in printed
    assert console.push(sample_report(refs={"console": ref.ref})).created is False
    assert console.pull(ref.ref).state == "new"
