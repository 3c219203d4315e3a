"""The example package catalogue of DESIGN.md, seeded by the demo (a deployment edits its own)."""

from __future__ import annotations

from typing import Any

HOUR = 3600
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
ALL_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hours(days: tuple[str, ...], span: str) -> dict[str, list[str]]:
    return {day: [span] for day in days}


EXAMPLE_PACKAGES: list[dict[str, Any]] = [
    {
        "code": "essential",
        "name": "Essential",
        "desk_access": False,
        "calendar": {"timezone": "Europe/London", "hours": {}},
        "channels": ["web"],
        "sla_targets": {},
        "queue_weight": 0.0,
        "phone_number": None,
    },
    {
        "code": "business",
        "name": "Business",
        "desk_access": True,
        "calendar": {
            "timezone": "Europe/London",
            "hours": _hours(WEEKDAYS, "09:00-17:30"),
            "holidays": {"country": "GB", "subdivision": "ENG"},
        },
        "channels": ["web", "email"],
        "sla_targets": {"S1": 4 * HOUR, "S2": 8 * HOUR, "S3": 16 * HOUR, "S4": 24 * HOUR},
        "queue_weight": 1.0,
        "phone_number": None,
    },
    {
        "code": "premium",
        "name": "Premium",
        "desk_access": True,
        "calendar": {
            "timezone": "Europe/London",
            "hours": _hours((*WEEKDAYS, "sat"), "07:00-22:00"),
        },
        "channels": ["web", "email", "phone"],
        "sla_targets": {"S1": 1 * HOUR, "S2": 4 * HOUR, "S3": 8 * HOUR, "S4": 16 * HOUR},
        "queue_weight": 2.0,
        "phone_number": "+44 20 7946 0018",
    },
    {
        "code": "enterprise",
        "name": "Enterprise",
        "desk_access": True,
        "calendar": {"timezone": "UTC", "hours": _hours(ALL_DAYS, "00:00-24:00")},
        "channels": ["web", "email", "phone"],
        "sla_targets": {"S1": HOUR // 2, "S2": 2 * HOUR, "S3": 4 * HOUR, "S4": 8 * HOUR},
        "queue_weight": 3.0,
        "phone_number": "+44 20 7946 0099",
    },
]
