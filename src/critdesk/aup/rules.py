"""Pure Acceptable Use rules: sliding-window rate limits and the redirect record's figures.

A limit allows ``count`` events of one action (reporting a case, uploading a file) per
``window_seconds``, per organisation or per user; ``count == 0`` disables it. The window
slides: an event counts while it is younger than the window, so a refused caller can be told
to the second when the oldest counted event leaves it and a slot frees.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

ACTIONS = ("case", "upload")
SCOPES = ("organisation", "user")
WINDOW_WORDS = {60: "minute", 3600: "hour"}
ACTION_WORDS = {"case": "cases reported", "upload": "files uploaded"}


@dataclass(frozen=True, slots=True)
class Limit:
    action: str
    scope: str
    count: int
    window_seconds: int

    @property
    def enabled(self) -> bool:
        return self.count > 0

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_seconds)

    def describe(self) -> str:
        per = WINDOW_WORDS.get(self.window_seconds, f"{self.window_seconds} s")
        who = "your organisation" if self.scope == "organisation" else "you"
        return f"{self.count} {ACTION_WORDS[self.action]} per {per} by {who}"


def retry_after(limit: Limit, nth_newest_at: datetime | None, now: datetime) -> int | None:
    """Whether one more event fits under ``limit``; if not, whole seconds until it does.

    ``nth_newest_at`` is the time of the ``limit.count``-th newest event still inside the
    window (None when there are fewer). One more event fits once that one leaves the window.
    """
    if not limit.enabled or nth_newest_at is None:
        return None
    frees_at = nth_newest_at + limit.window
    if frees_at <= now:
        return None
    return max(1, math.ceil((frees_at - now).total_seconds()))


# --- the acceptable-use record ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Redirect:
    at: datetime
    target: str
    case_id: int


def month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def redirect_figures(redirects: Iterable[Redirect], cases_reported: int) -> dict[str, object]:
    """Counts by target and by month (UTC), the distinct cases, and their share of all cases."""
    items = list(redirects)
    by_target = Counter(r.target for r in items)
    months: dict[str, Counter[str]] = {}
    for redirect in items:
        months.setdefault(month_of(redirect.at), Counter())[redirect.target] += 1
    cases = len({r.case_id for r in items})
    return {
        "count": len(items),
        "cases": cases,
        "share": round(cases / cases_reported, 4) if cases_reported else 0.0,
        "by_target": dict(sorted(by_target.items())),
        "by_month": [
            {
                "month": month,
                "count": sum(counts.values()),
                "by_target": dict(sorted(counts.items())),
            }
            for month, counts in sorted(months.items())
        ],
    }
