"""The labelled corpus: the redactor meets issue 7's targets, measured as `eval redaction` does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from critdesk.redaction import evaluation
from critdesk.redaction.spans import CATEGORIES

CORPUS = Path(__file__).resolve().parents[1] / "data" / "redaction"


@pytest.fixture(scope="module")
def scores() -> evaluation.Scores:
    return evaluation.evaluate(evaluation.read_corpus(CORPUS), keep_details=True)


def test_the_corpus_is_large_and_covers_every_category(scores: evaluation.Scores) -> None:
    assert scores.items >= 150
    for category in CATEGORIES:
        assert scores.labelled[category] >= (3 if category == "custom" else 8), category


def test_the_redactor_meets_the_recall_and_precision_targets(scores: evaluation.Scores) -> None:
    assert scores.failures() == [], (scores.misses, scores.spurious)
    for category in evaluation.STRICT_CATEGORIES:
        assert (scores.recall(category) or 0) >= evaluation.RECALL_TARGET
    assert scores.precision >= evaluation.PRECISION_TARGET


def test_the_jsonl_is_what_the_builder_writes() -> None:
    from tests.data.redaction.build import build

    written = [
        json.loads(line) for line in (CORPUS / "corpus.jsonl").read_text("utf-8").splitlines()
    ]
    assert written == json.loads(json.dumps(build(), ensure_ascii=False))


def test_a_missed_span_and_a_spurious_replacement_are_counted() -> None:
    item = evaluation.parse_item(
        {
            "id": "t",
            "text": "password is hunter and 10.0.0.1 and db01.corp.local",
            "known": {},
            "spans": [["secret", "hunter"], ["ip", "10.0.0.1"]],
        }
    )
    scores = evaluation.evaluate([item], keep_details=True)
    assert scores.labelled["secret"] == 1 and scores.found["secret"] == 0
    assert scores.found["ip"] == 1
    assert scores.replacements == 2 and scores.false_positives == 1
    assert scores.spurious[0]["text"] == "db01.corp.local"
    assert "secret recall 0.000 < 0.99" in scores.failures()


def test_a_label_absent_from_its_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "x", "text": "abc", "spans": [["ip", "1.2.3.4"]]}) + "\n")
    with pytest.raises(evaluation.CorpusError, match=r"bad\.jsonl:1"):
        evaluation.read_corpus(path)
