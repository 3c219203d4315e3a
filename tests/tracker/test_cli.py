"""``critdesk tracker push`` and ``sync`` against the local GitHub server."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from critdesk.cli.main import cli
from tests.bug.test_api import file_bug
from tests.case.test_api import ENG1
from tests.tracker.fake_github import GITHUB_REPO, GITHUB_TOKEN

UNCONFIGURED = {
    name: None
    for name in (
        "CRITDESK_JIRA_URL",
        "CRITDESK_JIRA_EMAIL",
        "CRITDESK_JIRA_TOKEN",
        "CRITDESK_JIRA_PROJECT",
        "CRITDESK_GITHUB_TOKEN",
        "CRITDESK_GITHUB_REPO",
        "CRITDESK_GITHUB_API_URL",
    )
}


@pytest.fixture
def run(database_url, tmp_path):  # type: ignore[no-untyped-def]
    def _run(*args: str, **env: str | None):  # type: ignore[no-untyped-def]
        environment = (
            UNCONFIGURED
            | {
                "CRITDESK_DATABASE_URL": database_url,
                "CRITDESK_DATA_DIR": str(tmp_path / "data"),
                "CRITDESK_TRACKER_BACKOFF_SECONDS": "0.01",
            }
            | env
        )
        return CliRunner().invoke(cli, list(args), env=environment, catch_exceptions=False)

    return _run


def test_push_and_sync_from_the_command_line(client, login, github, run) -> None:
    key = file_bug(client, login(ENG1))["key"]
    github_env = {
        "CRITDESK_GITHUB_API_URL": github.url,
        "CRITDESK_GITHUB_TOKEN": GITHUB_TOKEN,
        "CRITDESK_GITHUB_REPO": GITHUB_REPO,
    }
    pushed = run("tracker", "push", key, **github_env)
    assert pushed.exit_code == 0, pushed.output
    assert pushed.output.strip() == f"{key}: created github 1 {github.issues['1']['html_url']}"
    github.move(1, "closed", "not_planned")
    synced = run("tracker", "sync", **github_env)
    assert synced.exit_code == 0, synced.output
    assert f"{key} github 1: changed — new → wont_fix because github says closed" in synced.output
    assert client.get(f"/api/v1/bugs/{key}", headers=login(ENG1)).json()["state"] == "wont_fix"

    refused = run("tracker", "push", key, "--to", "jira", **github_env)
    assert refused.exit_code != 0 and "set CRITDESK_JIRA_URL" in refused.output
    bad_token = run("tracker", "sync", **(github_env | {"CRITDESK_GITHUB_TOKEN": "nope"}))
    assert bad_token.exit_code != 0 and "Bad credentials" in bad_token.output

    # With no tracker configured, development sees what would be sent.
    printed = run("tracker", "push", key)
    assert printed.exit_code == 0, printed.output
    assert f"would create console-{key}" in printed.output
    assert "## Steps to reproduce" in printed.output
    assert f"{key}: created console console-{key}" in printed.output
