"""`critdesk eval redaction`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from critdesk.cli.main import cli

CORPUS = Path(__file__).resolve().parents[1] / "data" / "redaction"


def test_it_prints_recall_per_category_and_precision() -> None:
    result = CliRunner().invoke(cli, ["eval", "redaction", str(CORPUS)])
    assert result.exit_code == 0, result.output
    assert "organisation" in result.output and "precision" in result.output
    assert "targets: met" in result.output


def test_it_prints_json() -> None:
    result = CliRunner().invoke(cli, ["eval", "redaction", str(CORPUS), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["items"] >= 150 and figures["targets_met"] is True
    assert figures["categories"]["secret"]["recall"] >= 0.99


def test_it_exits_1_when_a_target_is_missed(tmp_path: Path) -> None:
    corpus = tmp_path / "tiny.jsonl"
    item = {"id": "a", "text": "the password is hunter", "spans": [["secret", "hunter"]]}
    corpus.write_text(json.dumps(item) + "\n")
    result = CliRunner().invoke(cli, ["eval", "redaction", str(corpus), "--details"])
    assert result.exit_code == 1
    assert "secret recall 0.000" in result.output
    assert "missed" in result.output and "'hunter'" in result.output


def test_a_broken_corpus_is_reported_not_raised(tmp_path: Path) -> None:
    corpus = tmp_path / "broken.jsonl"
    corpus.write_text("{not json\n")
    result = CliRunner().invoke(cli, ["eval", "redaction", str(corpus)])
    assert result.exit_code == 1
    assert "broken.jsonl:1" in result.output
