"""The job runners pull bug states from every configured tracker on their own."""

from __future__ import annotations

from contextlib import closing

from pydantic import SecretStr

from critdesk.adapters.tracker import tracker_from_settings
from critdesk.bug.export import export_bug
from critdesk.bug.models import Bug
from critdesk.jobs import periodic
from tests.bug.test_api import file_bug
from tests.case.test_api import ALICE, ENG1, report
from tests.tracker.fake_github import GITHUB_REPO, GITHUB_TOKEN


def push(database, settings, key: str, now) -> None:  # type: ignore[no-untyped-def]
    with database.session() as db, closing(tracker_from_settings(settings, "github")) as tracker:
        export_bug(
            db=db, bug=db.get(Bug, int(key.split("-")[1])), tracker=tracker, actor=None, now=now
        )


def test_the_periodic_sync_moves_a_bug_closed_in_github_and_tells_its_case(
    client, login, github, database, settings, clock
) -> None:
    settings.github_api_url = github.url
    settings.github_token = SecretStr(GITHUB_TOKEN)
    settings.github_repo = GITHUB_REPO
    settings.jira_url = None
    settings.tracker_backoff_seconds = 0.01
    eng = login(ENG1)
    bug = file_bug(client, eng)
    ref = report(client, login(ALICE))["ref"]
    client.post(f"/api/v1/cases/{ref}/bugs", headers=eng, json={"bug": bug["key"]})
    with (
        database.session() as db,
        closing(tracker_from_settings(settings, "github")) as github_tracker,
    ):
        row = db.get(Bug, int(bug["key"].split("-")[1]))
        export_bug(db=db, bug=row, tracker=github_tracker, actor=None, now=clock.now)

    url = f"/api/v1/bugs/{bug['key']}/state"
    assert client.post(url, headers=eng, json={"state": "in_progress"}).status_code == 200
    assert periodic.sync_trackers(database, settings, clock.now) == {"github": 0}
    github.move(1, "closed", "completed", milestone=("10.4.3", "open"))
    assert periodic.sync_trackers(database, settings, clock.now) == {"github": 1}
    assert periodic.sync_trackers(database, settings, clock.now) == {"github": 0}  # once only

    moved = client.get(f"/api/v1/bugs/{bug['key']}", headers=eng).json()
    assert (moved["state"], moved["fix_version"]) == ("fixed", "10.4.3")
    timeline = client.get(f"/api/v1/cases/{ref}", headers=login(ALICE)).json()["timeline"]
    assert timeline[-1]["kind"] == "bug_fixed"


def test_an_unreachable_tracker_is_logged_and_retried_on_the_next_pass(
    client, login, github, database, settings, clock, caplog
) -> None:
    settings.github_api_url = github.url
    settings.github_token = SecretStr(GITHUB_TOKEN)
    settings.github_repo = GITHUB_REPO
    settings.jira_url = None
    settings.tracker_retries = 0
    bug = file_bug(client, login(ENG1))
    with (
        database.session() as db,
        closing(tracker_from_settings(settings, "github")) as github_tracker,
    ):
        row = db.get(Bug, int(bug["key"].split("-")[1]))
        export_bug(db=db, bug=row, tracker=github_tracker, actor=None, now=clock.now)
    settings.github_api_url = "http://127.0.0.1:9"  # nothing listens there
    assert periodic.sync_trackers(database, settings, clock.now) == {"github": 0}
    assert f"{bug['key']} on github failed" in caplog.text
    settings.github_api_url = github.url
    github.move(1, "closed", "not_planned")
    assert periodic.sync_trackers(database, settings, clock.now) == {"github": 1}


def test_no_tracker_configured_means_nothing_to_sync(database, settings, clock) -> None:
    settings.github_repo = None
    settings.jira_url = None
    assert periodic.sync_trackers(database, settings, clock.now) == {}
