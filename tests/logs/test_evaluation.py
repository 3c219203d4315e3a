"""`critdesk eval loghub`: GA and PA of `logs templates` against ground truth."""

# Log lines are data: they keep their real length.
# ruff: noqa: E501

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from critdesk.cli.main import cli
from critdesk.logs import evaluation

LOGHUB = Path(__file__).resolve().parents[3] / "shared" / "data" / "loghub"

RAW = """\
Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186
Dec 10 06:55:46 LabSZ sshd[24200]: input_userauth_request: invalid user webmaster [preauth]
Dec 10 06:55:48 LabSZ sshd[24200]: Connection closed by 173.234.31.186 [preauth]
Dec 10 07:02:47 LabSZ sshd[24203]: Invalid user test9 from 52.80.34.196
Dec 10 07:02:48 LabSZ sshd[24203]: Connection closed by 52.80.34.196 [preauth]
Dec 10 07:08:28 LabSZ sshd[24208]: Failed password for root from 112.95.230.3 port 45378 ssh2
"""
TRUTH = """\
LineId,Date,Day,Time,Component,Pid,Content,EventId,EventTemplate
1,Dec,10,06:55:46,LabSZ,24200,Invalid user webmaster from 173.234.31.186,E13,Invalid user <*> from <*>
2,Dec,10,06:55:46,LabSZ,24200,input_userauth_request: invalid user webmaster [preauth],E12,input_userauth_request: invalid user <*> [preauth]
3,Dec,10,06:55:48,LabSZ,24200,Connection closed by 173.234.31.186 [preauth],E2,Connection closed by <*> [preauth]
4,Dec,10,07:02:47,LabSZ,24203,Invalid user test9 from 52.80.34.196,E13,Invalid user <*> from <*>
5,Dec,10,07:02:48,LabSZ,24203,Connection closed by 52.80.34.196 [preauth],E2,Connection closed by <*> [preauth]
6,Dec,10,07:08:28,LabSZ,24208,Failed password for root from 112.95.230.3 port 45378 ssh2,E9,Failed password for <*> from <*> port <*> ssh2
"""


@pytest.fixture
def fixture_root(tmp_path: Path) -> Path:
    system = tmp_path / "Mini"
    system.mkdir()
    (system / "Mini_2k.log").write_text(RAW)
    (system / "Mini_2k.log_structured_corrected.csv").write_text(TRUTH)
    return tmp_path


def test_it_scores_grouping_and_parsing_on_a_small_fixture(fixture_root: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "loghub", str(fixture_root), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    # Every group is right. Lines 2 and 6 are the only ones of their events: a word seen
    # once ("webmaster", "root") cannot be told from a constant, where the truth has <*>.
    assert figures["systems"]["Mini"]["ga"] == 1.0
    assert figures["systems"]["Mini"]["pa"] == pytest.approx(4 / 6, abs=1e-3)
    assert figures["mean"] == figures["systems"]["Mini"]
    text = CliRunner().invoke(cli, ["eval", "loghub", str(fixture_root)])
    assert "Mini" in text.output and "mean" in text.output


def test_the_metrics_follow_the_loghub_definitions() -> None:
    truth = ["A <*>", "A <*>", "B", "C"]
    assert evaluation.grouping_accuracy([1, 1, 2, 2], truth) == 0.5
    assert evaluation.grouping_accuracy([1, 1, 2, 3], truth) == 1.0
    assert evaluation.parsing_accuracy(["A  <*> <*>", "A x", "B", "C"], truth) == 0.75
    assert evaluation.normalise_template(" a <*><*>  <*> b ") == "a <*> b"


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "loghub", str(tmp_path)])
    assert result.exit_code != 0 and "no Loghub systems" in result.output


def test_logs_templates_prints_every_line(tmp_path: Path) -> None:
    log = tmp_path / "ssh.log"
    log.write_text(RAW)
    result = CliRunner().invoke(cli, ["logs", "templates", str(log), "--csv"])
    rows = result.output.splitlines()
    assert len(rows) == 6 and rows[0] == "1,1,Invalid user <*> from <*>"
    assert rows[3].startswith("4,1,")


def test_logs_analyze_prints_ranked_signatures(tmp_path: Path) -> None:
    from tests.logs.samples import TOMCAT_APP

    log = tmp_path / "app.log"
    log.write_text(TOMCAT_APP)
    plain = CliRunner().invoke(cli, ["logs", "analyze", str(log)])
    assert plain.exit_code == 0 and "stack:SQLSyntaxErrorException@" in plain.output
    as_json = CliRunner().invoke(
        cli, ["logs", "analyze", str(log), "--json", "--reported-at", "2026-11-25T09:10:00Z"]
    )
    assert json.loads(as_json.output)["signatures"][0]["started_near_report"] is True
    binary = tmp_path / "core"
    binary.write_bytes(bytes(range(256)) * 40)
    refused = CliRunner().invoke(cli, ["logs", "analyze", str(binary)])
    assert refused.exit_code != 0 and "binary" in refused.output


@pytest.mark.skipif(not LOGHUB.is_dir(), reason="the Loghub data is not beside the project")
def test_on_the_real_loghub_samples_it_beats_the_published_drain_figures() -> None:
    scores = evaluation.score_all(LOGHUB)
    mean = evaluation.mean(scores)
    assert mean.ga > 0.808 + 0.1 and mean.pa > 0.321 + 0.3
