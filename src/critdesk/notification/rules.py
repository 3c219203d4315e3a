"""Who hears of what, on which channel, and how often delivery is retried: pure rules.

Recipients are named by their *party* to a case: the customer side (``reporter``,
``customer_admins``) and the engineer side (``owner``, ``leads``, ``account_manager``). An
internal event never reaches the customer side, whatever the tables below say.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

CUSTOMER_PARTIES = frozenset({"reporter", "customer_admins"})
STAFF_PARTIES = frozenset({"owner", "leads", "account_manager"})

# Each notifiable case event kind and the parties who hear of it. An SLA warning is the desk's
# own early escalation (its timeline event is internal); a breach is told to everyone.
AUDIENCE: Mapping[str, frozenset[str]] = {
    "reported": frozenset({"reporter", "leads"}),
    "assigned": frozenset({"reporter", "owner"}),
    "investigation_started": frozenset({"reporter"}),
    "info_requested": frozenset({"reporter"}),
    "info_request_answered": frozenset({"owner"}),
    "info_request_reminder": frozenset({"reporter"}),
    "comment": frozenset({"reporter", "owner"}),
    "resolved": frozenset({"reporter", "customer_admins"}),
    "redirected": frozenset({"reporter", "customer_admins"}),
    "bug_fixed": frozenset({"reporter", "customer_admins", "owner"}),
    "bug_released": frozenset({"reporter", "customer_admins", "owner"}),
    "sla_warning": frozenset({"owner", "leads"}),
    "sla_breach": frozenset({"reporter", "customer_admins", "owner", "leads", "account_manager"}),
}
NOTIFIABLE = frozenset(AUDIENCE)
# Kinds whose notifications are keyed by case rather than by event: each fires once per case.
ONCE_PER_CASE = frozenset({"sla_warning", "sla_breach"})
# Delivered before anything else due: a backlog of routine e-mails must not delay them.
URGENT_KINDS = ("sla_breach", "sla_warning")
# The person who acted is not told of their own action, except the reporter's confirmation.
TOLD_THEIR_OWN = frozenset({"reported"})
USER_CHANNELS = ("email", "in_app")
# Events that are not a case's: sent to webhook endpoints only (development's own systems, and
# customers' systems for public bugs linked to their cases).
BUG_STATE_CHANGED = "bug_state_changed"
WEBHOOK_ONLY = frozenset({BUG_STATE_CHANGED})
WEBHOOK_KINDS = NOTIFIABLE | WEBHOOK_ONLY


def parties(kind: str, *, internal: bool) -> frozenset[str]:
    """The parties told of an event; internal events never reach the customer side."""
    told = AUDIENCE.get(kind, frozenset())
    return told - CUSTOMER_PARTIES if internal else told


def default_enabled(role: str, kind: str, channel: str) -> bool:
    """A user's channel for a kind when they have not chosen: on, because each kind above is
    already one that party must act on or be told of; users switch off what they do not want."""
    return channel in USER_CHANNELS and kind in NOTIFIABLE


def user_key(kind: str, *, case_id: int, event_id: int, user_id: int, channel: str) -> str:
    return f"{_scope(kind, case_id, event_id)}:{user_id}:{channel}"


def webhook_key(kind: str, *, case_id: int, event_id: int, endpoint_id: int) -> str:
    return f"{_scope(kind, case_id, event_id)}:endpoint-{endpoint_id}:webhook"


def bug_webhook_key(*, bug_id: int, state: str, at_epoch_ms: int, endpoint_id: int) -> str:
    """One delivery per bug state change and endpoint: a bug enters a state at one instant."""
    return f"{BUG_STATE_CHANGED}:{bug_id}:{state}:{at_epoch_ms}:endpoint-{endpoint_id}:webhook"


def _scope(kind: str, case_id: int, event_id: int) -> str:
    return f"{kind}:{case_id}" if kind in ONCE_PER_CASE else f"case_event:{event_id}"


def backoff_seconds(attempt: int, *, base: float, cap: float, jitter: float) -> float:
    """The wait after failed attempt number ``attempt`` (1, 2, …): exponential, capped, with
    "equal jitter" (half fixed, half random from ``jitter`` in [0, 1)) so that many rows failing
    together against one receiver do not all come back at the same instant."""
    delay = float(min(cap, base * 2.0 ** max(0, attempt - 1)))
    return delay / 2 + delay / 2 * min(max(jitter, 0.0), 1.0)


def thread_root(ref: str, domain: str) -> str:
    """The Message-ID every e-mail about a case replies to, so mail clients thread them."""
    return f"<case-{ref}@{domain}>"


def message_id(key: str, domain: str, ref: str | None = None) -> str:
    """Deterministic per notification: a resent e-mail carries the same Message-ID, so a
    receiver can drop the duplicate."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{ref or 'critdesk'}.{digest}@{domain}>"


def subject(ref: str, headline: str) -> str:
    return f"[{ref}] {headline}"


def headline(kind: str, title: str, data: Mapping[str, Any]) -> str:
    """One line naming what happened, for subjects and in-app lists."""
    owner = data.get("owner")
    bug = data.get("bug")
    lines = {
        "reported": f"Case received: {title}",
        "assigned": f"Assigned to {owner[-1] if isinstance(owner, list) else owner}: {title}",
        "investigation_started": f"Investigation started: {title}",
        "info_requested": f"Information requested: {title}",
        "info_request_answered": f"Information request answered: {title}",
        "info_request_reminder": f"Reminder, information still needed: {title}",
        "comment": f"New comment: {title}",
        "resolved": f"Resolved: {title}",
        "redirected": f"Redirected: {title}",
        "bug_fixed": f"{bug} fixed in {data.get('fix_version')}: {title}",
        "bug_released": f"{bug} released in {data.get('fix_version')}: {title}",
        "sla_warning": f"SLA warning, investigation due soon: {title}",
        "sla_breach": f"SLA breached, investigation overdue: {title}",
    }
    return lines.get(kind, f"{kind.replace('_', ' ').capitalize()}: {title}")


def is_due_for_dead_letter(attempts: int, max_attempts: int) -> bool:
    return attempts >= max_attempts
