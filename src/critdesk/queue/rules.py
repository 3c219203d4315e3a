"""The queue score: severity first, then who is waiting, how much SLA is used, package weight.

Points are tiered so the order reads plainly: a higher severity always outranks a lower one; in
a severity, a case whose clock has run out outranks every other; then cases still waiting for
an engineer outrank cases already being worked; the share of the SLA target used and the
package's weight order the rest. Ties go to the older case (the caller sorts by age second).
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITY_POINTS = {"S1": 4000, "S2": 3000, "S3": 2000, "S4": 1000}
WAITING_POINTS = 300
BREACHED_POINTS = 300
USED_SHARE_POINTS = 200
WEIGHT_POINTS = 20


@dataclass(frozen=True, slots=True)
class QueueFacts:
    severity: str
    waiting: bool  # no engineer has started investigating yet
    used_share: float  # of the start-investigating target, in business time
    package_name: str
    package_weight: float
    target_seconds: int


@dataclass(frozen=True, slots=True)
class Score:
    value: float
    explanation: tuple[str, ...]


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours}h{minutes:02d}m"
    return f"{hours}h" if hours else f"{minutes}m"


def score(facts: QueueFacts) -> Score:
    parts = [f"{facts.severity} (+{SEVERITY_POINTS[facts.severity]})"]
    value = float(SEVERITY_POINTS[facts.severity])
    if facts.waiting:
        value += WAITING_POINTS
        parts.append(f"waiting for an engineer (+{WAITING_POINTS})")
        used = min(max(facts.used_share, 0.0), 1.0)
        if facts.used_share >= 1.0:
            value += BREACHED_POINTS
            parts.append(f"SLA breached (+{BREACHED_POINTS})")
        used_points = round(used * USED_SHARE_POINTS, 1)
        value += used_points
        parts.append(
            f"{facts.used_share:.0%} of the {_duration(facts.target_seconds)} "
            f"start-investigating target used (+{used_points:g})"
        )
    else:
        parts.append("investigation started (+0)")
    weight_points = round(facts.package_weight * WEIGHT_POINTS, 1)
    value += weight_points
    parts.append(
        f"{facts.package_name} package weight {facts.package_weight:g} (+{weight_points:g})"
    )
    return Score(round(value, 1), tuple(parts))
