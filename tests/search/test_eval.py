"""``critdesk eval dbrd``: the standard duplicate-detection protocol over the product's engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from critdesk.cli.main import cli
from critdesk.search.dbrd import queries_of, read_reports

FIXTURE = Path(__file__).parent / "data" / "dbrd_small.jsonl"
SEAMONKEY = Path(__file__).parents[3] / "shared" / "data" / "dbrd" / "gitbugs_seamonkey.jsonl"


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["eval", "dbrd", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_queries_follow_the_standard_protocol() -> None:
    # 4 and 5 point at earlier reports; 9 at an earlier group member; 10 at a group whose
    # members (7, 8) are both earlier. 6 points outside the file, 7 at a later report.
    found = {q.id: sorted(answers) for q, answers in queries_of(read_reports(FIXTURE))}
    assert found == {"4": ["1"], "5": ["3"], "9": ["2"], "10": ["7", "8"]}


def test_it_prints_exactly_one_json_object() -> None:
    # Ranks of the first right answer: 4 → 1, 5 → 1, 9 → none (no shared words with 2),
    # 10 → 3 (two memory-leak reports outrank the calendar ones).
    assert json.loads(run(str(FIXTURE), "--json", "--no-semantic")) == {
        "queries": 4,
        "rr@1": 0.5,
        "rr@5": 0.75,
        "rr@10": 0.75,
        "mrr": 0.5833,
    }


def test_it_prints_a_table_for_people() -> None:
    output = run(str(FIXTURE), "--no-semantic")
    assert "10 reports, 4 queries, lexical" in output
    assert "RR@10  0.750" in output and "MRR    0.583" in output


def test_a_missing_file_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["eval", "dbrd", "/nonexistent.jsonl"])
    assert result.exit_code == 2


@pytest.mark.skipif(not SEAMONKEY.exists(), reason="shared evaluation data absent")
def test_it_beats_plain_bm25_on_seamonkey() -> None:
    figures = json.loads(run(str(SEAMONKEY), "--json", "--no-semantic"))
    assert figures["queries"] == 43
    # Plain BM25 under the same protocol: RR@10 0.767, MRR 0.690.
    assert figures["rr@10"] >= 0.85 and figures["mrr"] >= 0.74
