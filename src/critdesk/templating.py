"""Rendering of the web pages: the Jinja2 environment, its filters, flash messages.

Pages hand ``render`` a plain context dict; the layout's shared values (the viewer, the CSRF
token, the time zone, a pending flash message) are added here so that no page repeats them.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

TEMPLATE_DIR = Path(__file__).parent / "templates"
STAFF_TIMEZONE = "Europe/London"
FLASH_COOKIE = "critdesk_flash"
FLASH_MAX_CHARS = 600
_IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")

# The words people read instead of the identifiers the API uses.
LABELS = {
    "app_unavailable": "The application is unavailable",
    "security_vulnerability": "A security vulnerability",
    "data_loss": "Data loss or corruption",
    "degraded": "Performance is degraded",
    "all_users": "All users",
    "end_users": "End users, broadly",
    "particular_circumstance": "Only in a particular circumstance or environment",
    "new": "New",
    "investigating": "Investigating",
    "awaiting_customer": "Awaiting customer",
    "resolved": "Resolved",
    "redirected": "Redirected",
    "closed": "Closed",
    "critical": "Critical",
    "not_critical": "Not critical",
    "documentation": "Documentation",
    "support_helpdesk": "Support Helpdesk",
    "community_forum": "Community Forum",
    "third_party_support": "Third-party support",
    "account_manager": "Account Manager",
    "resolution_advised": "Resolution advised",
    "workaround_provided": "Workaround provided",
    "bug_reported": "Bug reported",
    "on_premises": "On-Premises",
    "gateway": "Gateway",
    "cloud": "Cloud",
    "web": "Web",
    "email": "E-mail",
    "phone": "Telephone",
    "customer": "Customer",
    "customer_admin": "Customer admin",
    "engineer": "Engineer",
    "lead": "Lead",
    "admin": "Admin",
    "running": "Running",
    "met": "Met",
    "breached": "Breached",
}


def label(value: object) -> str:
    """The word for an identifier; anything else (an e-mail, free text) is left as it is."""
    text = str(value)
    if text in LABELS:
        return LABELS[text]
    if _IDENTIFIER.fullmatch(text):
        return text.replace("_", " ").capitalize()
    return text


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo(STAFF_TIMEZONE)


def format_time(value: datetime | None, timezone: str, pattern: str) -> str:
    if value is None:
        return "—"
    return value.astimezone(_zone(timezone)).strftime(pattern)


def sentence(value: object) -> str:
    """A service's message ("cannot close a case that is new") as a sentence for people."""
    text = str(value).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def iso(value: datetime | None) -> str:
    """UTC ISO 8601 with a Z, the form the browser's Date parses everywhere."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds: float | None) -> str:
    """A length of time for people: "45 s", "30 min", "4 h", "1 h 30 min", "2 d 3 h"."""
    if seconds is None:
        return "—"
    total = int(abs(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def relative(value: datetime | None, now: datetime) -> str:
    """ "in 30 min", "12 min ago" or "now" (within a minute)."""
    if value is None:
        return "—"
    delta = (value - now).total_seconds()
    if abs(delta) < 60:
        return "now"
    # To the nearest minute: a deadline 29 min 59.8 s away reads "in 30 min".
    rounded = round(abs(delta) / 60) * 60
    return f"in {duration(rounded)}" if delta > 0 else f"{duration(rounded)} ago"


def countdown(seconds: float) -> str:
    """The queue's ticking figure; static/app.js writes exactly the same format."""
    total = int(abs(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days}d {hours:02d}h {minutes:02d}m"
    elif hours:
        text = f"{hours}h {minutes:02d}m {secs:02d}s"
    else:
        text = f"{minutes}m {secs:02d}s"
    return f"overdue {text}" if seconds < 0 else text


def sla_phase(sla: dict[str, Any], now: datetime) -> str:
    """The colour of an SLA figure: ``ok``, ``warn``, ``breached`` or ``met``."""
    if sla["status"] != "running":
        return str(sla["status"])
    return "warn" if now >= sla["warn_at"] else "ok"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    @jinja2.pass_context
    def when(context: Any, value: datetime | None) -> str:
        return format_time(value, context["tz"], "%a %d %b %Y, %H:%M %Z")

    @jinja2.pass_context
    def short(context: Any, value: datetime | None) -> str:
        return format_time(value, context["tz"], "%d %b %H:%M")

    @jinja2.pass_context
    def from_now(context: Any, value: datetime | None) -> str:
        return relative(value, context["now"])

    env.filters.update(
        when=when,
        short=short,
        relative=from_now,
        sentence=sentence,
        iso=iso,
        duration=duration,
        label=label,
        countdown=countdown,
    )
    env.globals.update(sla_phase=sla_phase)
    return env


templates = Jinja2Templates(env=_environment())


def _base_context(request: Request) -> dict[str, Any]:
    viewer = getattr(request.state, "viewer", None)
    timezone = viewer["timezone"] if viewer else STAFF_TIMEZONE
    return {
        "viewer": viewer,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "tz": timezone,
        "now": request.app.state.clock(),
        "flash": None,
        "page_title": "",
    }


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A full page in the layout; shows (and clears) a pending flash message."""
    flash = read_flash(request)
    full = _base_context(request) | {"flash": flash} | context
    response = templates.TemplateResponse(
        request, name, full, status_code=status_code, headers=headers
    )
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def render_fragment(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    """A piece of a page fetched by static/app.js; leaves any flash message for the next page."""
    return templates.TemplateResponse(request, name, _base_context(request) | context)


def error_page(
    request: Request,
    status_code: int,
    message: str,
    *,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    titles = {
        400: "That request could not be understood",
        403: "You may not do that",
        404: "Not found",
        405: "Not allowed",
        409: "That clashed with another change",
        422: "Please check what you entered",
        429: "Too many attempts",
    }
    context = {
        "page_title": titles.get(status_code, "Something went wrong"),
        "status_code": status_code,
        "message": message,
    }
    return render(request, "error.html", context, status_code=status_code, headers=headers)


# --- flash messages: one short message carried across a POST-redirect-GET in a cookie -----


def set_flash(response: Response, kind: str, text: str, *, secure: bool) -> None:
    payload = json.dumps({"kind": kind, "text": text[:FLASH_MAX_CHARS]})
    response.set_cookie(
        FLASH_COOKIE,
        base64.urlsafe_b64encode(payload.encode()).decode(),
        max_age=120,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
        kind, text = str(data["kind"]), str(data["text"])[:FLASH_MAX_CHARS]
    except (ValueError, KeyError, TypeError):
        return None
    return {"kind": kind if kind in ("success", "error") else "error", "text": text}
