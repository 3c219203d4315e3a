"""Phone numbers in any written form reduce to one comparable form."""

from __future__ import annotations

import pytest

from critdesk.phone import rules


@pytest.mark.parametrize(
    "written",
    [
        "+44 161 496 0101",
        "0161 496 0101",
        "01614960101",
        "0044 161-496-0101",
        "(0161) 4960101",
        "+44 (0)161 496 0101",
        "+44.161.496.0101",
    ],
)
def test_every_written_form_of_a_number_is_the_same_number(written: str) -> None:
    assert rules.normalise(written) == "+441614960101"


@pytest.mark.parametrize("text", ["Carol", "carol@contoso.example", "12", "", None, "0161 abc"])
def test_names_addresses_and_fragments_are_not_numbers(text: str | None) -> None:
    assert rules.normalise(text) is None


def test_a_national_number_is_read_in_the_default_region() -> None:
    assert rules.normalise("(415) 555-0100", "US") == "+14155550100"
    assert rules.normalise("+1 415 555 0100") == "+14155550100"


def test_the_last_digits_prefilter_ignores_separators() -> None:
    assert rules.last_digits("+44 161-496 0101") == "4960101"
