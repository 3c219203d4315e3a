"""Pure report rules: which reports exist and who reads them, a case's SLA outcome, the
statistics of a distribution, reporting periods and the CSV form of a report.

Nothing here touches the database or reads the clock: the service aggregates in SQL and hands
plain values to these functions, so that SQLite and PostgreSQL give the same figures.

**The SLA outcome of a case** follows the desk's own clock (``sla/jobs.py``): the clock runs
until an engineer starts investigating, and only while the case is new.

* ``met`` — investigation started at or before the due time;
* ``breached`` — investigation started after it, or the case is still new and the due time has
  passed (exactly when the breach sweep escalates it);
* ``running`` — still new and not yet due;
* a case redirected or closed without anyone investigating has no outcome: its clock stopped
  when it left the queue (the sweeps ignore it too), and it is counted by the redirect reports
  instead of the SLA ones.

``met_rate`` is the share of decided clocks that were met, ``met / (met + breached)``: a clock
still running has not kept or broken the promise yet. It is ``None`` when nothing is decided.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

# The case module's severities and whom a case waits on (re-exported for the report's users).
from critdesk.case.rules import SEVERITIES as SEVERITIES
from critdesk.case.rules import WAITING_ON as WAITING_ON

SLA_OUTCOMES = ("met", "breached", "running")
OPEN_STATES = ("new", "investigating", "awaiting_customer")
PERCENTILES = (("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9))
DISTRIBUTION_COLUMNS = (
    "cases",
    "min_seconds",
    "p25_seconds",
    "median_seconds",
    "p75_seconds",
    "p90_seconds",
    "max_seconds",
)
SLA_COUNTS = ("cases", "met", "breached", "running", "met_rate")

# Who reads what. "all": every organisation; "managed": the organisations the account manager
# manages; "own": the caller's organisation. Customers (named contacts) read no report.
REACH = {
    "admin": "all",
    "lead": "all",
    # Engineers already see every case in the queue and the case list, so the desk-wide
    # figures tell them nothing new; the acceptable-use records stay with the account managers.
    "engineer": "all",
    "account_manager": "managed",
    "customer_admin": "own",
}


@dataclass(frozen=True, slots=True)
class ReportSpec:
    name: str
    title: str
    description: str
    columns: tuple[str, ...]
    # Roles beyond the leads and admins that may read it (within their reach).
    roles: frozenset[str]


_DESK = frozenset({"engineer", "account_manager"})
_WITH_CUSTOMERS = _DESK | {"customer_admin"}

SPECS: dict[str, ReportSpec] = {
    spec.name: spec
    for spec in (
        ReportSpec(
            "sla",
            "SLA compliance",
            "Start-investigating clocks met, breached and still running, per organisation, "
            "package and severity.",
            ("organisation", "package", "severity", *SLA_COUNTS),
            _WITH_CUSTOMERS,
        ),
        ReportSpec(
            "sla-monthly",
            "SLA compliance by month",
            "Start-investigating clocks per month reported (UTC) and package.",
            ("month", "package", *SLA_COUNTS),
            _WITH_CUSTOMERS,
        ),
        ReportSpec(
            "time-to-investigate",
            "Business time to start investigating",
            "How much of the package's business time passed before an engineer started "
            "investigating, per severity.",
            ("severity", *DISTRIBUTION_COLUMNS),
            _WITH_CUSTOMERS,
        ),
        ReportSpec(
            "time-to-resolution",
            "Time to resolution",
            "Elapsed time from the report to the resolution, per severity (resolved cases).",
            ("severity", *DISTRIBUTION_COLUMNS),
            _WITH_CUSTOMERS,
        ),
        ReportSpec(
            "open-cases",
            "Cases waiting, by state and by whom they wait on",
            "Open cases, and resolved ones awaiting the customer's confirmation.",
            ("state", "waiting_on", "cases", "oldest_since"),
            _WITH_CUSTOMERS,
        ),
        ReportSpec(
            "root-causes",
            "Root-cause categories",
            "Cases by the category of their recorded root cause.",
            ("category", "cases", "product_defect"),
            _WITH_CUSTOMERS,
        ),
        ReportSpec(
            "redirects",
            "Redirects",
            "Cases sent elsewhere, by target, and how many of them were reported as critical.",
            ("target", "cases", "reported_critical", "reported_not_critical"),
            _DESK,
        ),
        ReportSpec(
            "acceptable-use",
            "Acceptable use",
            "Per organisation: cases reported, and those redirected as not critical or not "
            "the vendor's defect.",
            ("organisation", "reported", "redirected", "redirected_reported_critical", "share"),
            frozenset({"account_manager"}),
        ),
        ReportSpec(
            "referrals",
            "Referrals to the account manager",
            "Cases redirected to the account manager (training, consultancy), per "
            "organisation and month reported.",
            ("organisation", "month", "cases"),
            frozenset({"account_manager"}),
        ),
        ReportSpec(
            "bugs",
            "Bugs by linked cases",
            "The bugs with the most linked cases.",
            ("bug", "title", "state", "severity", "cases", "organisations"),
            _DESK,
        ),
        ReportSpec(
            "engineer-load",
            "Engineer load",
            "Open cases per owner, by state.",
            ("engineer", "name", *OPEN_STATES, "open"),
            _DESK,
        ),
    )
}


class NotAllowed(Exception):
    """The role may not read the report; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def reach(role: str, spec: ReportSpec) -> str:
    """How far the role sees in this report, or NotAllowed with the reason."""
    if role == "customer":
        raise NotAllowed(
            "customer_admins_only", "reports are for your organisation's customer admins"
        )
    scope = REACH.get(role)
    if scope is None or (role not in ("admin", "lead") and role not in spec.roles):
        if role == "customer_admin":
            raise NotAllowed(
                "not_for_customers", f"the {spec.name} report is kept for the vendor's staff"
            )
        raise NotAllowed("not_allowed", f"the {spec.name} report is not for the {role} role")
    return scope


def readable(role: str) -> list[ReportSpec]:
    """The reports a role may read, in their usual order."""
    found = []
    for spec in SPECS.values():
        try:
            reach(role, spec)
        except NotAllowed:
            continue
        found.append(spec)
    return found


# --- statistics -------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], share: float) -> float | None:
    """The continuous percentile of sorted values, interpolating linearly between the two
    nearest ranks exactly as PostgreSQL's ``percentile_cont`` does."""
    if not ordered:
        return None
    if not 0.0 <= share <= 1.0:
        raise ValueError("share must be between 0 and 1")
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low]) + (position - low) * (float(ordered[high]) - float(ordered[low]))


def rounded(value: float | None) -> float | None:
    """Seconds to a tenth: both databases' figures then read the same."""
    return None if value is None else round(float(value), 1)


def distribution(values: Iterable[float]) -> dict[str, Any]:
    """Count, minimum, quartiles, median, 90th percentile and maximum of some durations."""
    ordered = sorted(float(v) for v in values)
    figures: dict[str, Any] = {"cases": len(ordered)}
    figures["min_seconds"] = rounded(ordered[0]) if ordered else None
    for name, share in PERCENTILES:
        figures[f"{name}_seconds"] = rounded(percentile(ordered, share))
    figures["max_seconds"] = rounded(ordered[-1]) if ordered else None
    return figures


def met_rate(met: int, breached: int) -> float | None:
    decided = met + breached
    return round(met / decided, 4) if decided else None


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def sla_figures(met: int, breached: int, running: int) -> dict[str, Any]:
    return {
        "cases": met + breached + running,
        "met": met,
        "breached": breached,
        "running": running,
        "met_rate": met_rate(met, breached),
    }


def sla_outcome(
    *, state: str, due_at: datetime, met_at: datetime | None, now: datetime
) -> str | None:
    """The outcome of one case's clock (see the module's notes); None: it has none."""
    if met_at is not None:
        return "met" if met_at <= due_at else "breached"
    if state != "new":
        return None
    return "running" if now < due_at else "breached"


# --- periods ----------------------------------------------------------------------------------

_MONTH = re.compile(r"(\d{4})-(\d{2})")


class BadPeriod(ValueError):
    pass


def month_bounds(text: str) -> tuple[datetime, datetime]:
    """``2026-10`` as [1 October 00:00 UTC, 1 November 00:00 UTC)."""
    found = _MONTH.fullmatch(text.strip())
    if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1:
        raise BadPeriod(f"{text!r} is not a month like 2026-10")
    year, month = int(found[1]), int(found[2])
    if (year, month) == (9999, 12):
        raise BadPeriod(f"{text!r} is out of range")
    start = datetime(year, month, 1, tzinfo=UTC)
    return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def parse_moment(text: str | None, name: str) -> datetime | None:
    """A query's ``from``/``to``: a date (midnight UTC) or an ISO 8601 time (UTC if no zone).
    Empty means not given."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as error:
        raise BadPeriod(f"{name} must be a date (2026-10-01) or an ISO 8601 time") from error
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise BadPeriod(f"{name} is out of range") from error


def check_period(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start >= end:
        raise BadPeriod("from must be before to")


def default_dashboard_start(now: datetime, months: int) -> datetime:
    """The first day (UTC) of the month ``months - 1`` months before ``now``'s month."""
    index = now.astimezone(UTC).year * 12 + now.astimezone(UTC).month - 1 - (months - 1)
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


# --- CSV --------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula; an organisation name
# or bug title must never do that, so such text gets a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(column)) for column in columns])
    return out.getvalue()


def text_table(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """Aligned columns for a terminal: numbers to the right, text to the left."""
    cells = [[_shown(row.get(column)) for column in columns] for row in rows]
    numeric = [
        any(_is_number(row.get(column)) for row in rows)
        and all(row.get(column) is None or _is_number(row.get(column)) for row in rows)
        for column in columns
    ]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(list(columns)), rule, *(line(r) for r in cells)])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return str(value)
