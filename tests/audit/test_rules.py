"""The chain's pure rules: one canonical serialisation per event, every column covered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from critdesk.audit.rules import (
    CONTENT,
    GENESIS,
    canonical,
    check_head,
    check_link,
    digest,
    parse_anchor,
)

AT = datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)
EVENT: dict[str, Any] = {
    "id": 7,
    "at": AT,
    "actor_id": 3,
    "organisation_id": 2,
    "action": "case.viewed",
    "object_type": "case",
    "object_id": "PCH-000001",
    "data": {"case": "PCH-000001", "name": "server.log"},
}
CHANGED = {
    "id": 8,
    "at": AT + timedelta(microseconds=1),
    "actor_id": None,
    "organisation_id": 4,
    "action": "case.assigned",
    "object_type": "attachment",
    "object_id": "PCH-000002",
    "data": {"case": "PCH-000001", "name": "server.log "},
}


def sealed(event: dict[str, Any], seq: int, prev_hash: str) -> dict[str, Any]:
    return event | {"seq": seq, "prev_hash": prev_hash, "hash": digest(seq, prev_hash, event)}


def test_the_serialisation_is_sorted_compact_json_with_utc_iso_times() -> None:
    assert canonical(1, GENESIS, EVENT) == (
        b'{"action":"case.viewed","actor_id":3,"at":"2026-11-25T10:00:00.123456+00:00",'
        b'"data":{"case":"PCH-000001","name":"server.log"},"id":7,"object_id":"PCH-000001",'
        b'"object_type":"case","organisation_id":2,"prev_hash":"' + GENESIS.encode() + b'","seq":1}'
    )


def test_the_same_instant_in_another_zone_and_another_key_order_hash_alike() -> None:
    paris = AT.astimezone(timezone(timedelta(hours=1)))
    reordered = dict(reversed(list(EVENT.items()))) | {"at": paris}
    reordered["data"] = {"name": "server.log", "case": "PCH-000001"}
    assert digest(1, GENESIS, reordered) == digest(1, GENESIS, EVENT)


@pytest.mark.parametrize("column", CONTENT)
def test_changing_any_content_column_changes_the_hash(column: str) -> None:
    assert digest(1, GENESIS, EVENT | {column: CHANGED[column]}) != digest(1, GENESIS, EVENT)


def test_the_seal_position_is_part_of_the_hash() -> None:
    assert digest(2, GENESIS, EVENT) != digest(1, GENESIS, EVENT)
    assert digest(1, "1" * 64, EVENT) != digest(1, GENESIS, EVENT)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        canonical(1, GENESIS, EVENT | {"at": AT.replace(tzinfo=None)})


@given(
    st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner),
            max_leaves=10,
        ),
        max_size=5,
    )
)
def test_any_json_data_serialises_as_ascii_and_round_trips(data: dict[str, Any]) -> None:
    import json

    text = canonical(1, GENESIS, EVENT | {"data": data})
    assert text.isascii()
    assert json.loads(text)["data"] == data


def test_a_good_link_passes_and_each_kind_of_damage_is_named() -> None:
    first = sealed(EVENT, 1, GENESIS)
    assert check_link(first, 1, GENESIS) is None
    edited = first | {"data": {"case": "PCH-000009"}}
    assert check_link(edited, 1, GENESIS).code == "edited"  # type: ignore[union-attr]
    problem = check_link(sealed(EVENT, 3, GENESIS), 1, GENESIS)
    assert (
        problem is not None
        and problem.code == "gap"
        and "seqs 1..2 are missing" in (problem.reason)
    )
    relinked = sealed(EVENT, 1, "2" * 64)
    assert check_link(relinked, 1, GENESIS).code == "broken_link"  # type: ignore[union-attr]


def test_the_head_must_point_at_the_last_event() -> None:
    assert check_head(None, None, 0, GENESIS) is None
    assert check_head(5, "a" * 64, 5, "a" * 64) is None
    assert check_head(None, None, 3, "a" * 64).code == "head_missing"  # type: ignore[union-attr]
    deleted = check_head(6, "a" * 64, 5, "a" * 64)
    assert deleted is not None and "last events were deleted" in deleted.reason
    assert check_head(5, "b" * 64, 5, "a" * 64).code == "head_mismatch"  # type: ignore[union-attr]


def test_an_anchor_is_seq_colon_hash() -> None:
    assert parse_anchor(f"12:{'AB' * 32}") == (12, "ab" * 32)
    for bad in ("12", "x:" + "a" * 64, "0:" + "a" * 64, "3:abc", "3:" + "g" * 64):
        with pytest.raises(ValueError):
            parse_anchor(bad)
