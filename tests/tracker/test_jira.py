"""The Jira Cloud adapter against a local server that checks request shape and auth."""

from __future__ import annotations

import logging

import pytest

from critdesk.adapters.tracker import TrackerError
from critdesk.adapters.tracker.jira import JiraMapping
from tests.tracker.conftest import TRACE, sample_report
from tests.tracker.fake_jira import JIRA_TOKEN, adf_headings


def test_it_creates_an_issue_with_an_adf_description(jira, make_jira) -> None:
    ref = make_jira().push(sample_report())
    assert (ref.tracker, ref.ref, ref.created) == ("jira", "CRIT-1", True)
    assert ref.url == f"{jira.url}/browse/CRIT-1"
    # It looks for an issue of this bug first, then creates one.
    assert jira.calls() == [("GET", "/rest/api/3/search/jql"), ("POST", "/rest/api/3/issue")]
    assert jira.rejections == []
    fields = jira.requests[-1].body["fields"]
    assert fields["project"] == {"key": "CRIT"}
    assert fields["issuetype"] == {"name": "Bug"}
    assert fields["priority"] == {"name": "Highest"}
    assert fields["labels"] == ["critdesk", "BUG-12"]
    doc = fields["description"]
    assert adf_headings(doc) == [
        "Description",
        "Steps to reproduce",
        "Expected behaviour",
        "Actual behaviour",
        "Affected versions",
        "Environment",
        "Signatures",
    ]
    kinds = [node["type"] for node in doc["content"]]
    assert "orderedList" in kinds
    code = [n["content"][0]["text"] for n in doc["content"] if n["type"] == "codeBlock"]
    assert code[0] == TRACE


def test_pushing_a_bug_with_a_ref_updates_its_issue(jira, make_jira) -> None:
    tracker = make_jira()
    tracker.push(sample_report())
    jira.issues["CRIT-1"]["fields"]["labels"].append("team-runtime")
    ref = tracker.push(
        sample_report(title="Pool leaks after failed calls", refs={"jira": "CRIT-1"})
    )
    assert (ref.ref, ref.created) == ("CRIT-1", False)
    assert jira.count("POST") == 1 and jira.count("PUT", "/rest/api/3/issue/CRIT-1") == 1
    fields = jira.issues["CRIT-1"]["fields"]
    assert fields["summary"] == "Pool leaks after failed calls"
    assert fields["labels"] == ["critdesk", "BUG-12", "team-runtime"]  # added, not replaced


def test_an_issue_already_filed_for_the_bug_is_updated_not_duplicated(jira, make_jira) -> None:
    # The ref was lost (e.g. the transaction that stored it rolled back after the push).
    make_jira().push(sample_report())
    ref = make_jira().push(sample_report())
    assert (ref.ref, ref.created) == ("CRIT-1", False)
    assert len(jira.issues) == 1


@pytest.mark.parametrize(
    ("status", "category", "resolution", "versions", "state", "fix_version"),
    [
        ("To Do", "new", None, (), "new", None),
        ("Selected for Development", "new", None, (), "confirmed", None),
        ("In Progress", "indeterminate", None, (), "in_progress", None),
        ("Code Review", "indeterminate", None, (), "in_progress", None),  # by category
        ("Done", "done", "Fixed", (("10.4.3", False),), "fixed", "10.4.3"),
        ("Done", "done", "Done", (("10.4.3", True), ("11.0", False)), "released", "10.4.3"),
        ("Closed", "done", "Won't Do", (), "wont_fix", None),
        ("Done", "done", "Duplicate", (), "duplicate", None),
    ],
)
def test_it_reads_the_state_back_in_critdesk_words(
    jira, make_jira, status, category, resolution, versions, state, fix_version
) -> None:
    tracker = make_jira()
    tracker.push(sample_report())
    jira.move("CRIT-1", status, category, resolution, versions)
    pulled = tracker.pull("CRIT-1")
    assert (pulled.state, pulled.fix_version) == (state, fix_version)
    assert status in pulled.status
    assert jira.requests[-1].query["fields"] == "status,fixVersions,resolution"


def test_the_status_map_is_configurable(jira, make_jira) -> None:
    mapping = JiraMapping.with_overrides({"Ready for QA": "fixed"}, {"Obsolete": "wont_fix"})
    tracker = make_jira(mapping=mapping)
    tracker.push(sample_report())
    jira.move("CRIT-1", "Ready for QA", "indeterminate", None, (("10.5", False),))
    assert tracker.pull("CRIT-1").state == "fixed"
    jira.move("CRIT-1", "Done", "done", "Obsolete")
    assert tracker.pull("CRIT-1").state == "wont_fix"
    with pytest.raises(ValueError, match="not critdesk bug states"):
        JiraMapping.with_overrides({"Done": "shipped"})


def test_a_refused_field_reports_jiras_words_and_is_not_retried(jira, make_jira) -> None:
    tracker = make_jira(priorities={"S1": "Blocker"})
    with pytest.raises(TrackerError) as refused:
        tracker.push(sample_report())
    assert refused.value.status == 400 and not refused.value.retryable
    assert "priority: Specify the Priority" in str(refused.value)
    assert jira.count("POST") == 1


def test_jiras_error_messages_are_reported(jira, make_jira) -> None:
    words = "Issue type 'Bug' is not enabled in project CRIT."
    jira.then("POST", "/rest/api/3/issue", status=400, body={"errorMessages": [words]})
    with pytest.raises(TrackerError, match="answered 400: Issue type 'Bug' is not enabled"):
        make_jira().push(sample_report())


def test_no_priority_is_sent_when_none_is_configured(jira, make_jira) -> None:
    make_jira(priorities={}).push(sample_report())
    assert "priority" not in jira.requests[-1].body["fields"]


def test_a_wrong_token_is_refused_without_leaking_the_token(jira, make_jira, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    tracker = make_jira(token="wrong-" + JIRA_TOKEN)
    with pytest.raises(TrackerError) as refused:
        tracker.pull("CRIT-1")
    assert refused.value.status == 401 and not refused.value.retryable
    assert "Client must be authenticated" in str(refused.value)
    assert "CRITDESK_JIRA_TOKEN" in str(refused.value)
    assert JIRA_TOKEN not in str(refused.value) + repr(refused.value) + repr(tracker)
    assert JIRA_TOKEN not in caplog.text
    assert jira.count("GET") == 1


def test_a_missing_issue_is_a_clear_404(jira, make_jira) -> None:
    with pytest.raises(TrackerError) as missing:
        make_jira().pull("CRIT-404")
    assert missing.value.status == 404
    assert "Issue does not exist" in str(missing.value)
