"""How signatures are ranked and summarised (pure functions over plain values).

An engineer reads a log analysis top-down, so the order is the advice: the most severe
signatures first (a fatal or an exception outranks a warning), then the frequent and the
bursty ones, and above all those that *started* around the time the customer says the
trouble began — a signature present all day long is rarely the cause of an outage at 09:12.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

SEVERITY_WEIGHT = {"fatal": 5.0, "error": 4.0, "warning": 2.0, "info": 1.0, "debug": 0.5}
EXCEPTION_BONUS = 1.0
# Minutes either side of the reported start that the per-minute histogram covers.
HISTOGRAM_MINUTES = 30
# A signature that first appears within this window around the reported start "started then".
ONSET_BEFORE = timedelta(minutes=60)
ONSET_AFTER = timedelta(minutes=15)
ONSET_FACTOR = 2.0


@dataclass(frozen=True)
class Ranked:
    score: float
    reasons: tuple[str, ...]


def burstiness(
    count: int, peak_per_minute: int, first: datetime | None, last: datetime | None
) -> float:
    """Peak minute over the mean minute of the signature's active span (1 = steady)."""
    if first is None or last is None or count <= 1:
        return 1.0
    minutes = max(1.0, (last - first).total_seconds() / 60.0 + 1.0)
    mean = count / minutes
    return max(1.0, peak_per_minute / mean) if mean > 0 else 1.0


def started_near(first: datetime | None, reported_at: datetime | None) -> bool:
    if first is None or reported_at is None:
        return False
    return reported_at - ONSET_BEFORE <= first <= reported_at + ONSET_AFTER


def rank(
    *,
    severity: str | None,
    exception: bool,
    count: int,
    burst: float,
    started_near_report: bool,
) -> Ranked:
    """The signature's score and, in words, why it scores so."""
    weight = SEVERITY_WEIGHT.get(severity or "", 1.0) + (EXCEPTION_BONUS if exception else 0.0)
    score = weight * (1.0 + math.log10(max(count, 1)))
    reasons = [f"{severity or 'unknown'} level" + (", exception" if exception else "")]
    reasons.append(f"{count} occurrence{'s' if count != 1 else ''}")
    if burst >= 2.0:
        score *= 1.0 + 0.25 * math.log2(burst)
        reasons.append(f"bursty ({burst:.0f}× its average rate at peak)")
    if started_near_report:
        score *= ONSET_FACTOR
        reasons.append("first seen around the reported start")
    return Ranked(round(score, 3), tuple(reasons))


def histogram_start(reported_at: datetime | None, first: datetime) -> datetime:
    """The first minute of a signature's histogram: around the reported start if known,
    else from the signature's first occurrence."""
    centre = (
        reported_at if reported_at is not None else first + timedelta(minutes=HISTOGRAM_MINUTES)
    )
    minute = centre.replace(second=0, microsecond=0)
    return minute - timedelta(minutes=HISTOGRAM_MINUTES)


def histogram_bucket(start: datetime, at: datetime) -> int | None:
    """The bucket of ``at`` in a histogram starting at ``start``; None outside it."""
    index = int((at - start).total_seconds() // 60)
    return index if 0 <= index <= 2 * HISTOGRAM_MINUTES else None
