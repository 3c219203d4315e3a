"""How a report reads in a tracker: free text split into prose, steps and code, always a
valid ADF document for Jira and always well-fenced Markdown for GitHub."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from critdesk.adapters.tracker import adf, markdown
from critdesk.adapters.tracker.sections import Block, blocks
from tests.tracker.conftest import TRACE, sample_report
from tests.tracker.fake_github import markdown_problems
from tests.tracker.fake_jira import adf_problems


def test_numbered_lines_become_steps_and_a_trace_becomes_code() -> None:
    text = f"1. Open the app\n2) Click Pay\n\nIt fails with\nan error:\n\n{TRACE}"
    assert blocks(text) == [
        Block("steps", ("Open the app", "Click Pay")),
        Block("prose", ("It fails with", "an error:")),
        Block("code", tuple(TRACE.split("\n"))),
    ]


def test_a_python_traceback_is_code_and_an_ordinary_at_is_not() -> None:
    python = 'Traceback (most recent call last):\n  File "app.py", line 3, in <module>\nKeyError: 1'
    assert blocks(python)[0].kind == "code"
    assert blocks("We looked at the logs\nat the customer's request")[0].kind == "prose"


def test_fenced_code_is_kept_verbatim_even_when_left_open() -> None:
    assert blocks("See:\n```\n  indented\n\nblank above\n```\nafter") == [
        Block("prose", ("See:",)),
        Block("code", ("  indented", "", "blank above")),
        Block("prose", ("after",)),
    ]
    assert blocks("```\nnever closed")[-1] == Block("code", ("never closed",))


def test_the_jira_description_is_valid_adf() -> None:
    doc = adf.document(sample_report())
    assert adf_problems(doc) == []
    assert doc["content"][0]["content"][1]["text"].startswith("BUG-12 · severity S1")


def test_markdown_keeps_markers_and_mentions_harmless() -> None:
    body = markdown.body(sample_report(description="<!-- critdesk:BUG-1 --> ask @alice"))
    assert body.count("<!-- critdesk:") == 1 and body.startswith("<!-- critdesk:BUG-12 -->")
    assert "@\u200balice" in body and "name@example.com" in markdown.quiet("name@example.com")


pieces = st.sampled_from([*"ab 1.)`~\n\t@<!-–→é", "\n    at x.y(Z.java:1)", "\n```"])
free_text = st.lists(pieces, max_size=60).map("".join)


@settings(max_examples=150, deadline=None)
@given(description=free_text, steps=free_text, actual=free_text)
def test_any_text_makes_a_valid_adf_document_and_well_fenced_markdown(
    description: str, steps: str, actual: str
) -> None:
    report = sample_report(description=description, steps_to_reproduce=steps, actual=actual)
    assert adf_problems(adf.document(report)) == []
    assert markdown_problems(markdown.body(report)) == []


def test_huge_sections_are_cut_to_fit_both_trackers() -> None:
    frames = "\n".join(f"    at com.acme.Frame{n}.run(Frame.java:{n})" for n in range(3000))
    report = sample_report(description="x " * 25_000, actual=f"Boom:\n\n```\n{frames}\n```")
    doc = adf.document(report)
    assert adf_problems(doc) == []
    assert len(json.dumps(doc)) < 32_767
    body = markdown.body(report)
    assert markdown_problems(body) == [] and len(body) < 65_536
    note = "[Cut here: the full text is in critdesk, BUG-12.]"
    assert body.count(f"\n{note}") == 2  # as prose, also after a cut stack trace
    assert f"```\n\n{note}" in body
