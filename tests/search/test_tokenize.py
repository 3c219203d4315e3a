"""The analyser: identifiers, versions and error codes survive; prose is stemmed."""

from __future__ import annotations

import pytest

from critdesk.search.tokenize import analyze, analyze_fields


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # camelCase: the parts, and the whole identifier as one term
        ("ensureElementIsVisible", ["ensur", "element", "visibl", "ensureelementisvisible"]),
        ("HTTPServer", ["http", "server", "httpserver"]),
        # snake_case and SCREAMING_SNAKE error codes
        ("packed_simd_2", ["pack", "simd", "2", "packedsimd2"]),
        ("NS_ERROR_FAILURE", ["ns", "error", "failur", "nserrorfailure"]),
        # vendor error codes keep their number, and their whole form
        ("ORA-00942", ["ora", "00942", "ora00942"]),
        # version numbers stay whole, with their major.minor prefix
        ("2.53.17", ["2.53.17", "2.53"]),
        ("v10.2", ["10.2"]),
        ("rust-1.73.0", ["rust", "1.73.0", "1.73", "rust1.73.0"]),
        ("0x80004005", ["0x80004005"]),
        # hyphenated words meet their closed-up spelling
        ("read-only", ["read", "readonly"]),
    ],
)
def test_it_splits_identifiers_and_keeps_them_whole(text: str, expected: list[str]) -> None:
    assert analyze(text) == expected


def test_it_splits_dotted_java_names_into_classes_and_words() -> None:
    terms = analyze("java.lang.NullPointerException")
    assert {"null", "pointer", "except", "nullpointerexception"} <= set(terms)
    assert "javalangnullpointerexception" in terms


def test_it_drops_stopwords_and_stems_prose() -> None:
    assert analyze("The archiving of messages doesn't work") == ["archiv", "messag", "work"]
    assert analyze("Archive message") == ["archiv", "messag"]


def test_it_keeps_words_that_only_look_like_contractions() -> None:
    assert analyze("shell id") == ["shell", "id"]


def test_a_field_weight_repeats_its_terms() -> None:
    assert analyze_fields([("Gateway timeout", 2), ("proxy", 1), ("", 3)]) == [
        "gateway",
        "timeout",
        "gateway",
        "timeout",
        "proxi",
    ]
