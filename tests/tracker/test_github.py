"""The GitHub Issues adapter against a local server that checks request shape and auth."""

from __future__ import annotations

import logging
import time

import pytest

from critdesk.adapters.tracker import GitHubTracker, TrackerError
from critdesk.adapters.tracker.github import GitHubMapping
from tests.tracker.conftest import TRACE, sample_report
from tests.tracker.fake_github import GITHUB_TOKEN

ISSUES = "/repos/acme/product/issues"


def test_it_creates_an_issue_with_a_markdown_body(github, make_github) -> None:
    ref = make_github().push(sample_report())
    assert (ref.tracker, ref.ref, ref.created) == ("github", 1, True)
    assert ref.url == "https://github.com/acme/product/issues/1"
    assert github.calls() == [("GET", ISSUES), ("POST", ISSUES)]
    assert github.rejections == []
    request = github.requests[-1]
    assert request.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.body["labels"] == ["critdesk", "severity:S1"]
    body = request.body["body"]
    assert body.startswith("<!-- critdesk:BUG-12 -->\n")
    assert f"```text\n{TRACE}\n```" in body
    assert "1. Call a REST service that times out 50 times\n2. Watch the pool" in body
    assert "- Deployment type: cloud" in body
    assert "@\u200bplatform-team" in body  # written text never pings a GitHub team


def test_a_code_block_holding_backticks_gets_a_longer_fence(github, make_github) -> None:
    actual = "It fails:\n\n```\nresult = ```weird```\n```"
    make_github().push(sample_report(actual=actual))
    assert github.rejections == []
    assert "````text\nresult = ```weird```\n````" in github.requests[-1].body["body"]


def test_pushing_a_bug_with_a_ref_updates_its_issue_and_keeps_other_labels(
    github, make_github
) -> None:
    tracker = make_github()
    tracker.push(sample_report())
    github.move(1, "open", labels=("critdesk", "severity:S1", "in-progress"))
    ref = tracker.push(sample_report(severity="S2", refs={"github": 1}))
    assert (ref.ref, ref.created) == (1, False)
    assert github.count("POST") == 1
    assert github.calls()[-2:] == [("PATCH", f"{ISSUES}/1"), ("PATCH", f"{ISSUES}/1")]
    labels = [label["name"] for label in github.issues["1"]["labels"]]
    assert labels == ["critdesk", "in-progress", "severity:S2"]


def test_an_issue_already_filed_for_the_bug_is_updated_not_duplicated(github, make_github) -> None:
    make_github().push(sample_report(key="BUG-7", title="Another bug"))
    make_github().push(sample_report())
    ref = make_github().push(sample_report())
    assert (ref.ref, ref.created) == (2, False)
    assert len(github.issues) == 2


@pytest.mark.parametrize(
    ("state", "reason", "labels", "milestone", "expected", "fix_version"),
    [
        ("open", None, (), None, "new", None),
        ("open", None, ("confirmed",), None, "confirmed", None),
        ("open", None, ("confirmed", "in-progress"), ("10.5", "open"), "in_progress", "10.5"),
        ("closed", "completed", (), ("10.4.3", "open"), "fixed", "10.4.3"),
        ("closed", "completed", (), ("10.4.3", "closed"), "released", "10.4.3"),
        ("closed", "not_planned", (), None, "wont_fix", None),
        ("closed", "not_planned", ("duplicate",), None, "duplicate", None),
        ("closed", "duplicate", (), None, "duplicate", None),
        ("open", "reopened", (), None, "new", None),
    ],
)
def test_it_reads_the_state_back_in_critdesk_words(
    github, make_github, state, reason, labels, milestone, expected, fix_version
) -> None:
    tracker = make_github()
    tracker.push(sample_report())
    github.move(1, state, reason, labels, milestone)
    pulled = tracker.pull(1)
    assert (pulled.state, pulled.fix_version) == (expected, fix_version)
    assert pulled.status.startswith(state)


def test_the_label_map_is_configurable(github, make_github) -> None:
    tracker = make_github(
        mapping=GitHubMapping.with_overrides({"Needs-Triage": "new", "Accepted": "confirmed"})
    )
    tracker.push(sample_report())
    github.move(1, "open", labels=("accepted",))
    assert tracker.pull(1).state == "confirmed"
    with pytest.raises(ValueError):
        GitHubMapping.with_overrides({"shipped": "deployed"})


def test_a_validation_failure_reports_githubs_words_and_is_not_retried(github, make_github) -> None:
    errors = [
        {"resource": "Label", "code": "invalid", "field": "name"},
        {"resource": "Issue", "code": "custom", "message": "body is too long"},
    ]
    github.then("POST", ISSUES, status=422, body={"message": "Validation Failed", "errors": errors})
    with pytest.raises(TrackerError) as refused:
        make_github().push(sample_report())
    assert refused.value.status == 422 and not refused.value.retryable
    assert "Validation Failed; Label.name invalid; body is too long" in str(refused.value)
    assert github.count("POST") == 1


def test_a_wrong_token_is_refused_without_leaking_the_token(github, make_github, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    tracker = make_github(token="ghp_wrong" + GITHUB_TOKEN)
    with pytest.raises(TrackerError) as refused:
        tracker.push(sample_report())
    assert refused.value.status == 401
    assert "Bad credentials; check CRITDESK_GITHUB_TOKEN" in str(refused.value)
    assert GITHUB_TOKEN not in str(refused.value) + repr(refused.value) + repr(tracker)
    assert GITHUB_TOKEN not in caplog.text
    assert github.count("GET") == 1 and github.count("POST") == 0


def test_an_unknown_repository_is_a_clear_404(github, make_github) -> None:
    with pytest.raises(TrackerError) as missing:
        make_github(repo="acme/elsewhere").pull(3)
    assert missing.value.status == 404
    assert "Not Found; check CRITDESK_GITHUB_REPO" in str(missing.value)


def test_a_repository_is_owner_slash_name() -> None:
    with pytest.raises(ValueError):
        GitHubTracker(repo="../../user", token="x")


def test_an_exhausted_quota_is_waited_out_until_its_reset(github, make_github, sleeps) -> None:
    reset = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3)}
    github.then("GET", ISSUES, status=403, headers=reset, body={"message": "API rate limit"})
    assert make_github().push(sample_report()).ref == 1
    assert len(sleeps) == 1 and 1.0 <= sleeps[0] <= 3.0
