"""The pure notification rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from critdesk.adapters import webhook
from critdesk.notification import rules


def test_internal_events_never_reach_the_customer_side() -> None:
    for kind in rules.NOTIFIABLE:
        assert not rules.parties(kind, internal=True) & rules.CUSTOMER_PARTIES


def test_a_breach_escalates_to_the_leads_and_the_account_manager() -> None:
    assert {"leads", "account_manager", "owner"} <= rules.parties("sla_breach", internal=False)
    assert rules.parties("sla_warning", internal=False) == {"owner", "leads"}


def test_sla_notifications_are_keyed_by_case_and_the_rest_by_event() -> None:
    breach = rules.user_key("sla_breach", case_id=7, event_id=99, user_id=3, channel="email")
    assert breach == "sla_breach:7:3:email"
    assert rules.user_key("resolved", case_id=7, event_id=99, user_id=3, channel="in_app") == (
        "case_event:99:3:in_app"
    )


@given(st.integers(1, 30), st.floats(0, 1, exclude_max=True))
def test_backoff_grows_stays_under_the_cap_and_keeps_half_its_delay(
    attempt: int, jitter: float
) -> None:
    wait = rules.backoff_seconds(attempt, base=30, cap=3600, jitter=jitter)
    full = min(3600, 30 * 2 ** (attempt - 1))
    assert full / 2 <= wait <= full


def test_message_ids_are_deterministic_per_key() -> None:
    one = rules.message_id("case_event:1:2:email", "desk.example", "PCH-000001")
    assert one == rules.message_id("case_event:1:2:email", "desk.example", "PCH-000001")
    assert one != rules.message_id("case_event:1:3:email", "desk.example", "PCH-000001")
    assert one.startswith("<PCH-000001.") and one.endswith("@desk.example>")


@pytest.mark.parametrize(
    ("timestamp", "now", "ok"), [(1000, 1000, True), (1000, 1299, True), (1000, 1301, False)]
)
def test_a_signature_verifies_only_with_its_secret_and_a_recent_timestamp(
    timestamp: int, now: int, ok: bool
) -> None:
    body = b'{"event": "sla_breach"}'
    signature = webhook.sign("s3cret", timestamp, body)
    assert (
        webhook.verify("s3cret", body=body, timestamp=str(timestamp), signature=signature, now=now)
        is ok
    )
    assert not webhook.verify(
        "other", body=body, timestamp=str(timestamp), signature=signature, now=timestamp
    )
    assert not webhook.verify(
        "s3cret", body=body + b" ", timestamp=str(timestamp), signature=signature, now=timestamp
    )
