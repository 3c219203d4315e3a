"""What critdesk sends to an external bug tracker and what it reads back.

A tracker is anything with ``push`` and ``pull``: the Jira Cloud and GitHub Issues adapters,
the in-memory fake that tests use, and the console version that development uses. Nothing
here knows about the database: a :class:`BugExport` is a plain value built by
``critdesk.bug.export`` from a complete, submitted bug, and it deliberately has no field for
customer names or case contents (confidentiality: trackers are read by development, and a
GitHub repository may be public).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

# critdesk's bug states, in the words the trackers' states are mapped to.
STATES = ("new", "confirmed", "in_progress", "fixed", "released", "wont_fix", "duplicate")

Ref = str | int  # "CRIT-12" in Jira, 345 on GitHub: what ``bug.external_refs`` stores


@dataclass(frozen=True, slots=True)
class BugExport:
    key: str
    title: str
    description: str
    steps_to_reproduce: str
    expected: str
    actual: str
    affected_versions: tuple[str, ...]
    # deployment_type, product_version, database, browser, operating_system, production, other
    environment: Mapping[str, Any]
    severity: str
    product: str
    component: str | None
    signatures: tuple[str, ...]
    public: bool
    linked_cases: int
    # Where this bug already lives, tracker name → ref: a push then updates instead of creating.
    refs: Mapping[str, Ref] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExternalRef:
    tracker: str
    ref: Ref
    url: str | None = None
    # False when an existing issue was updated (or found again after a lost response).
    created: bool = True


@dataclass(frozen=True, slots=True)
class ExternalState:
    """A tracker issue's state, mapped to critdesk's words; ``status`` keeps the tracker's own."""

    state: str
    fix_version: str | None
    status: str
    url: str | None = None


class TrackerError(Exception):
    """A tracker refused or could not be reached. The message never holds a secret.

    ``retryable`` is true when trying again later may succeed (rate limits, outages, lost
    connections); false for refusals such as a bad request or bad credentials.
    """

    def __init__(
        self, tracker: str, message: str, *, status: int | None = None, retryable: bool = False
    ) -> None:
        super().__init__(f"{tracker}: {message}")
        self.tracker = tracker
        self.status = status
        self.retryable = retryable


class Tracker(Protocol):
    name: str  # the key of ``bug.external_refs`` this tracker owns: "jira", "github", …

    def push(self, report: BugExport) -> ExternalRef:
        """Creates the issue, or updates it when ``report.refs`` already names one here."""

    def pull(self, ref: Ref) -> ExternalState:
        """The issue's current state and fix version."""

    def close(self) -> None:
        """Releases connections; safe to call more than once."""
