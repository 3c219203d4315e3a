"""Pure intake and life-cycle rules for cases: severity, qualification, state transitions.

Each decision returns its reasons so that the customer, the engineer and the audit trail can
see why the desk decided what it did.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("S1", "S2", "S3", "S4")
BREADTHS = ("all_users", "end_users", "particular_circumstance")
CHANNELS = ("web", "email", "phone")
REDIRECT_TARGETS = (
    "documentation",
    "support_helpdesk",
    "community_forum",
    "third_party_support",
    "account_manager",
)
ROOT_CAUSE_CATEGORIES = (
    "product_defect",
    "configuration",
    "customer_code",
    "third_party",
    "infrastructure",
    "unknown",
)
STATES = ("new", "investigating", "awaiting_customer", "resolved", "redirected", "closed")
OPEN_STATES = frozenset({"new", "investigating", "awaiting_customer"})
# Whom a case waits on, by state (none once redirected or closed): the case view's "waiting"
# and the open-cases report.
WAITING_ON = {
    "new": "vendor",
    "investigating": "vendor",
    "awaiting_customer": "customer",
    "resolved": "customer",
}


@dataclass(frozen=True, slots=True)
class Impact:
    app_unavailable: bool = False
    security_vulnerability: bool = False
    data_loss: bool = False
    degraded: bool = False


@dataclass(frozen=True, slots=True)
class Report:
    """What the customer told us at intake, plus what we know of the environment."""

    impact: Impact
    breadth: str
    end_users_blocked: bool
    production: bool


@dataclass(frozen=True, slots=True)
class SeverityDecision:
    severity: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Qualification:
    status: str  # "critical" or "not_critical"
    reasons: tuple[str, ...]
    suggested_redirect: str | None = None


def assess_severity(report: Report) -> SeverityDecision:
    """S1–S4 from impact × breadth, the rules of DESIGN.md in priority order."""
    impact = report.impact
    if impact.security_vulnerability:
        return SeverityDecision("S1", ("a security vulnerability is S1 in any environment",))
    if impact.data_loss:
        return SeverityDecision("S1", ("data loss or corruption is S1 in any environment",))
    if not report.production:
        return SeverityDecision(
            "S4", ("non-production environment without security or data impact",)
        )
    blocked = report.end_users_blocked or impact.app_unavailable
    if impact.app_unavailable and report.breadth == "all_users":
        return SeverityDecision("S1", ("the application fails for all users",))
    if blocked and report.breadth in ("all_users", "end_users"):
        return SeverityDecision("S2", ("the application fails or is impaired for end users",))
    if blocked:
        return SeverityDecision("S3", ("end users are blocked only in a particular circumstance",))
    if impact.degraded:
        return SeverityDecision("S3", ("the application is degraded but journeys complete",))
    return SeverityDecision("S4", ("no end-user impact reported",))


def qualify(report: Report) -> Qualification:
    """Provisional qualification at intake; an engineer confirms it or redirects the case."""
    impact = report.impact
    if impact.security_vulnerability or impact.data_loss:
        what = "security vulnerability" if impact.security_vulnerability else "data loss"
        return Qualification("critical", (f"a {what} in the product is always critical",))
    if not report.production:
        return Qualification(
            "not_critical",
            ("the environment is not production: the live application is not affected",),
            "support_helpdesk",
        )
    if report.end_users_blocked or impact.app_unavailable:
        return Qualification(
            "critical",
            (
                "production environment",
                "end users can no longer complete their journeys",
            ),
        )
    if impact.degraded:
        return Qualification(
            "not_critical",
            ("the application is degraded but end users can still complete their journeys",),
            "support_helpdesk",
        )
    return Qualification(
        "not_critical",
        ("end users can still complete their journeys",),
        "support_helpdesk",
    )


# action -> (states it may start from, state it leads to; None keeps the current state)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "assign": (OPEN_STATES, None),
    "start_investigation": (frozenset({"new"}), "investigating"),
    "assess": (OPEN_STATES, None),
    "redirect": (OPEN_STATES, "redirected"),
    "resolve": (frozenset({"investigating", "awaiting_customer"}), "resolved"),
    "close": (frozenset({"resolved", "redirected"}), "closed"),
    "confirm": (frozenset({"resolved"}), "closed"),
    "request_info": (frozenset({"investigating", "awaiting_customer"}), "awaiting_customer"),
    "all_answered": (frozenset({"awaiting_customer"}), "investigating"),
    "record_root_cause": (frozenset({"investigating", "awaiting_customer", "resolved"}), None),
    "reopen": (frozenset({"resolved", "redirected", "closed"}), None),
}


class TransitionRefused(Exception):
    def __init__(self, action: str, state: str) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[action][0]))
        super().__init__(f"cannot {action.replace('_', ' ')} a case that is {state}")
        self.message = f"{self}; allowed from: {allowed}"


def allows(action: str, state: str) -> bool:
    """Whether a case in ``state`` may take ``action`` (TRANSITIONS' sources)."""
    sources = TRANSITIONS.get(action)
    return sources is not None and state in sources[0]


def next_state(action: str, state: str, *, investigated: bool = False) -> str:
    """The state after ``action``, or TransitionRefused. Reopen returns to where work stood."""
    sources, target = TRANSITIONS[action]
    if state not in sources:
        raise TransitionRefused(action, state)
    if action == "reopen":
        return "investigating" if investigated else "new"
    return target or state
