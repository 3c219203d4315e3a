"""The pure rules: retention cut-off, anonymous identities, scrubbing a person from text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from critdesk.privacy import rules

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
BOB = rules.scrubber(
    name="Bob Northwind",
    email="bob@northwind.example",
    phone="+44 161 496 0102",
    organisation="Northwind Insurance",
)


@pytest.mark.parametrize(
    ("days", "cutoff"),
    [
        (0, None),
        (1, datetime(2026, 11, 24, 10, 0, tzinfo=UTC)),
        (365, datetime(2025, 11, 25, 10, 0, tzinfo=UTC)),
    ],
)
def test_the_retention_cutoff(days: int, cutoff: datetime | None) -> None:
    assert rules.retention_cutoff(NOW, days) == cutoff


def test_an_erased_contact_is_unique_recognisable_and_undeliverable() -> None:
    anonymous = rules.anonymous(42)
    assert anonymous.email == "erased-42@erased.invalid"
    assert anonymous.name == "Erased contact 42"
    assert rules.is_erased(anonymous.email) and not rules.is_erased("bob@northwind.example")


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("Mail bob@northwind.example", "Mail [EMAIL]"),
        ("BOB@Northwind.Example wrote", "[EMAIL] wrote"),
        ("Regards, Bob Northwind", "Regards, [NAME]"),
        ("Thanks bob!", "Thanks [NAME]!"),
        ("Call +44 161 496 0102 now", "Call [PHONE] now"),
        ("Call 0161 496 0102 now", "Call [PHONE] now"),
        ("Call 0161-496-0102 now", "Call [PHONE] now"),
        ("Call 00441614960102", "Call [PHONE]"),
        ("(0161) 4960102", "[PHONE]"),
        # The organisation's own name is not his: Northwind Insurance stays.
        ("Northwind Insurance's portal", "Northwind Insurance's portal"),
        # Other people, other numbers and words containing his name are left alone.
        ("alice@northwind.example", "alice@northwind.example"),
        ("+44 161 496 0101", "+44 161 496 0101"),
        ("Bobby tables, bobsleigh", "Bobby tables, bobsleigh"),
        ("order 0161496010299", "order 0161496010299"),
    ],
)
def test_a_person_is_scrubbed_from_text(text: str, scrubbed: str) -> None:
    assert BOB(text)[0] == scrubbed


def test_replacements_are_counted_and_json_values_scrubbed_inside() -> None:
    value = {
        "caller": {"email": "bob@northwind.example", "name": "Bob Northwind"},
        "notes": ["Bob called from 0161 496 0102", 3, None],
    }
    scrubbed, count = BOB.value(value)
    assert scrubbed == {
        "caller": {"email": "[EMAIL]", "name": "[NAME]"},
        "notes": ["[NAME] called from [PHONE]", 3, None],
    }
    assert count == 4


def test_nothing_known_scrubs_nothing() -> None:
    nobody = rules.scrubber(name="", email=None, phone=None)
    assert nobody("anything at all") == ("anything at all", 0)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_no_identifier_survives_scrubbing(noise: str) -> None:
    text = f"{noise} bob@northwind.example {noise} Bob Northwind {noise} +441614960102 {noise}"
    scrubbed, _ = BOB(text)
    lowered = scrubbed.lower()
    assert "bob@northwind.example" not in lowered
    assert "bob northwind" not in lowered
    assert "1614960102" not in scrubbed.replace(" ", "")
