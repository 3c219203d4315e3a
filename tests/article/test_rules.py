"""Article rules: the review state machine, the draft a case suggests, and one-pass redaction
of all sections with the guard that no organisation name or e-mail address survives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critdesk.article import rules
from critdesk.redaction.rules import KnownTerms

KNOWN = KnownTerms(
    organisations=("Northwind Insurance", "Contoso Health"),
    contacts=("Alice Archer",),
    emails=("alice@northwind.example",),
    environments=("nw-prod",),
)


@pytest.mark.parametrize(
    ("action", "state", "expected"),
    [
        ("submit", "draft", "in_review"),
        ("submit", "withdrawn", "in_review"),
        ("approve", "in_review", "approved"),
        ("reject", "in_review", "draft"),
        ("reject", "approved", "draft"),
        ("publish", "approved", "published"),
        ("unpublish", "published", "withdrawn"),
        ("edit", "draft", "draft"),
        ("edit", "in_review", "in_review"),
        ("edit", "approved", "in_review"),
        ("edit", "withdrawn", "draft"),
    ],
)
def test_it_moves_through_the_review(action: str, state: str, expected: str) -> None:
    assert rules.next_state(action, state) == expected


@pytest.mark.parametrize(
    ("action", "state"),
    [
        ("publish", "draft"),
        ("publish", "in_review"),
        ("publish", "published"),
        ("approve", "draft"),
        ("approve", "approved"),
        ("edit", "published"),
        ("unpublish", "approved"),
    ],
)
def test_it_refuses_other_moves_naming_the_allowed_states(action: str, state: str) -> None:
    with pytest.raises(rules.ArticleTransitionRefused) as refused:
        rules.next_state(action, state)
    assert refused.value.allowed
    assert state not in refused.value.allowed


def test_a_second_person_approves() -> None:
    assert rules.may_approve(reviewer_id=3, author_id=1, last_editor_id=1)
    assert not rules.may_approve(reviewer_id=1, author_id=1, last_editor_id=1)
    assert not rules.may_approve(reviewer_id=2, author_id=1, last_editor_id=2)


def test_the_draft_takes_what_the_case_knows() -> None:
    text = rules.draft_from_case(
        title=" Checkout fails ",
        description="Every checkout answers 503.",
        product_version="10.4.2",
        bug_versions=[["10.4.1", "10.4.2"]],
        root_cause={"category": "product_defect", "summary": "Pool leak."},
        outcomes=[
            {"type": "workaround_provided", "text": "Restart nightly."},
            {"type": "bug_reported", "text": "Fixed in 10.4.3.", "link": "BUG-1"},
        ],
    )
    assert text.title == "Checkout fails"
    assert text.affected_versions == ("10.4.2", "10.4.1")
    assert text.root_cause_category == "product_defect"
    assert text.root_cause == "Pool leak."
    assert text.resolution == "Workaround: Restart nightly.\n\nBug report: Fixed in 10.4.3."


def test_placeholders_are_consistent_across_sections() -> None:
    sections = {
        "title": "Pool exhausted at Northwind Insurance",
        "symptoms": "alice@northwind.example saw 503s on nw-prod.",
        "affected_versions": "10.4.2",
        "root_cause": "Pool sized for 10.",
        "resolution": "We wrote to alice@northwind.example about Northwind Insurance.",
    }
    result = rules.redact_article(sections, KNOWN)
    assert result.one_pass
    title, resolution = result.text("title"), result.text("resolution")
    org = next(m.placeholder for m in result.sections[0].marks)
    assert org in title and org in resolution
    email = next(m.placeholder for m in result.sections[1].marks if m.category == "email")
    assert email in resolution
    assert result.text("affected_versions") == "10.4.2"
    assert result.counts()["email"] == 2


def test_the_guard_forces_out_what_the_redactor_lets_through() -> None:
    # Word boundaries keep the redactor from a name glued into a word; the guard does not.
    sections = {"title": "Outage", "symptoms": "See xnorthwind insuranceportal logs."}
    result = rules.redact_article(sections, KNOWN)
    assert "northwind" not in result.text("symptoms").casefold()
    assert result.forced


def test_an_address_the_redactor_only_half_replaced_goes_whole() -> None:
    # Not an e-mail address to the redactor (no such top-level domain), yet it names Alice.
    result = rules.redact_article({"symptoms": "Ask alice@northwind.example10.4.2 why"}, KNOWN)
    assert "alice" not in result.text("symptoms")
    assert result.forced == ("alice@northwind.example10.4.2",)


def test_allowances_never_cover_names_or_addresses() -> None:
    refused = rules.refused_allowances(
        ["nw-prod", "northwind insurance portal", "ALICE@northwind.example", "x@y.example"],
        KNOWN.organisations,
        KNOWN.emails,
    )
    assert refused == ["northwind insurance portal", "ALICE@northwind.example", "x@y.example"]


def test_survivors_finds_names_in_any_case() -> None:
    found = rules.survivors(
        "NORTHWIND INSURANCE and Contoso Healthcare wrote to bob@else.example.",
        KNOWN.organisations,
        KNOWN.emails,
    )
    assert found == ["NORTHWIND INSURANCE", "Contoso Healthcare", "bob@else.example"]


def test_the_publication_has_headings_and_the_bug_link() -> None:
    result = rules.redact_article(
        {"title": "Pool", "symptoms": "503s", "root_cause": "Too small", "resolution": "Raise"},
        KNOWN,
    )
    publication = rules.publication(
        result, root_cause_category="configuration", bug=("BUG-3", "http://x/bugs/BUG-3")
    )
    assert publication.title == "Pool"
    assert "## Root cause\n\nConfiguration: Too small" in publication.body
    assert publication.body.endswith("[BUG-3](http://x/bugs/BUG-3)")


words = st.sampled_from(
    ["pool", "503", "Northwind Insurance", "alice@northwind.example", "nw-prod", "\n", "the"]
)
section = st.lists(words, max_size=12).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.fixed_dictionaries({name: section for name in rules.SECTIONS}))
def test_every_mark_points_at_its_placeholder(sections: dict[str, str]) -> None:
    result = rules.redact_article(sections, KNOWN)
    for part in result.sections:
        for mark in part.marks:
            assert part.text[mark.start : mark.end] == mark.placeholder
        assert "".join(s.text for s in rules.segments(part)) == part.text
        assert "northwind insurance" not in part.text.casefold()
        assert "alice@northwind.example" not in part.text.casefold()
