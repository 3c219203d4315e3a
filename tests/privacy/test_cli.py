"""``critdesk privacy export|erase`` against the test database."""

from __future__ import annotations

import json
import stat
from typing import Any

import pytest
from click.testing import CliRunner, Result

from critdesk.cli.main import cli
from tests.case.test_api import BOB
from tests.privacy.conftest import audit_actions


@pytest.fixture
def run(settings: Any, database_url: str) -> Any:
    env = {"CRITDESK_DATA_DIR": str(settings.data_dir), "CRITDESK_DATABASE_URL": database_url}

    def invoke(*args: str, answer: str | None = None) -> Result:
        return CliRunner().invoke(cli, ["privacy", *args], env=env, input=answer)

    return invoke


def test_export_writes_a_private_json_file(run, tmp_path, closed_case, database) -> None:
    out = tmp_path / "bob.json"
    result = run("export", "--email", BOB, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    exported = json.loads(out.read_text())
    assert exported["user"]["email"] == BOB
    assert closed_case["ref"] in [c["ref"] for c in exported["cases_reported"]]
    assert "bob-runtime.log" in [a["name"] for a in exported["attachments"]]
    assert len(audit_actions(database, "privacy.exported")) == 1


def test_export_to_standard_output(run, closed_case) -> None:
    result = run("export", "--email", BOB)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["user"]["email"] == BOB


def test_erase_asks_first_and_refusing_changes_nothing(run, closed_case, database) -> None:
    refused = run("erase", "--email", BOB, answer="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert "cases reported" in refused.output
    assert audit_actions(database, "privacy.erased") == []
    assert run("export", "--email", BOB).exit_code == 0  # still there


def test_erase_with_yes_erases_and_deletes_the_files(run, closed_case, database, settings) -> None:
    result = run("erase", "--email", BOB, "--yes")
    assert result.exit_code == 0, result.output
    assert "files 1" in result.output and "1 stored files deleted" in result.output
    assert len(audit_actions(database, "privacy.erased")) == 1
    again = run("export", "--email", BOB)
    assert again.exit_code == 1 and "contact not found" in again.output
