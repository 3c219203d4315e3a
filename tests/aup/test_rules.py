"""Sliding-window limits and the redirect record's figures, as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from critdesk.aup import rules

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PER_MINUTE = rules.Limit("case", "organisation", 3, 60)


@pytest.mark.parametrize(
    ("nth_newest_ago", "expected"),
    [
        (None, None),  # fewer events than the limit: allowed
        (0, 60),  # the limit was reached just now: a slot frees in a minute
        (25, 35),
        (59.2, 1),  # never "retry in 0 s"
        (60, None),  # it has just left the window
        (3600, None),
    ],
)
def test_retry_after_is_when_the_counted_event_leaves_the_window(nth_newest_ago, expected):
    nth = None if nth_newest_ago is None else T0 - timedelta(seconds=nth_newest_ago)
    assert rules.retry_after(PER_MINUTE, nth, T0) == expected


def test_a_disabled_limit_never_refuses() -> None:
    assert rules.retry_after(rules.Limit("upload", "user", 0, 60), T0, T0) is None


def test_a_limit_describes_itself() -> None:
    assert PER_MINUTE.describe() == "3 cases reported per minute by your organisation"
    assert rules.Limit("upload", "user", 5, 3600).describe() == "5 files uploaded per hour by you"


def test_redirect_figures_count_by_target_and_month() -> None:
    redirects = [
        rules.Redirect(datetime(2026, 10, 30, tzinfo=UTC), "documentation", 1),
        rules.Redirect(datetime(2026, 11, 2, tzinfo=UTC), "documentation", 2),
        rules.Redirect(datetime(2026, 11, 3, tzinfo=UTC), "support_helpdesk", 3),
        rules.Redirect(datetime(2026, 11, 9, tzinfo=UTC), "account_manager", 3),  # again
    ]
    assert rules.redirect_figures(redirects, cases_reported=6) == {
        "count": 4,
        "cases": 3,
        "share": 0.5,
        "by_target": {"account_manager": 1, "documentation": 2, "support_helpdesk": 1},
        "by_month": [
            {"month": "2026-10", "count": 1, "by_target": {"documentation": 1}},
            {
                "month": "2026-11",
                "count": 3,
                "by_target": {"account_manager": 1, "documentation": 1, "support_helpdesk": 1},
            },
        ],
    }
    assert rules.redirect_figures([], 0)["share"] == 0.0
