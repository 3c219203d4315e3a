"""Checks made before timing: is the answer right, and how many SQL statements does it take?"""

from __future__ import annotations

import itertools
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from critdesk.case.models import Case, format_ref
from critdesk.case.rules import OPEN_STATES
from critdesk.db import Database
from critdesk.package.models import SupportPackage
from critdesk.package.service import calendar_of
from critdesk.queue.rules import QueueFacts, score
from critdesk.sla import rules as sla


def brute_force_queue(engine: Engine, now: datetime, limit: int) -> list[tuple[str, float]]:
    """The top of the queue by scoring every open case with the queue rules (no shortcuts).

    Independent of the queue service's per-slice candidate search: "waiting" is read from the
    SLA clock (not yet stopped) rather than from ``queue_group``, and every open case is
    scored; the share of the target used is measured in business time unless the case is
    already past due, where the rules cap it anyway.
    """
    with Database(engine).session(read_only=True) as db:
        packages = {p.id: p for p in db.scalars(select(SupportPackage))}
        rows = db.execute(
            select(
                Case.id,
                Case.package_id,
                Case.severity,
                Case.reported_at,
                Case.sla_target_seconds,
                Case.sla_due_at,
                Case.sla_met_at,
                Case.queue_weight,
            ).where(Case.state.in_(OPEN_STATES))
        ).all()
    ranked = []
    for case_id, package_id, severity, reported_at, target, due_at, met_at, weight in rows:
        package = packages[package_id]
        waiting = met_at is None
        if not waiting:
            used = 0.0
        elif now >= due_at:
            used = 1.0
        else:
            used = sla.used_share(
                calendar_of(package), reported_at=reported_at, target_seconds=target, now=now
            )
        value = score(QueueFacts(severity, waiting, used, package.name, weight, target)).value
        ranked.append((-value, reported_at, case_id))
    ranked.sort()
    return [(format_ref(case_id), -negative) for negative, _at, case_id in ranked[:limit]]


def check_queue(answer: dict[str, Any], expected: list[tuple[str, float]]) -> dict[str, Any]:
    got = [(item["ref"], item["score"]) for item in answer["items"]]
    scores = [s for _ref, s in got]
    result = {
        "label": "check_queue",
        "items": len(got),
        "top": got[0] if got else None,
        "expected_top": expected[0] if expected else None,
        "top_is_most_urgent": bool(got) and got[0] == expected[0],
        "page_equals_brute_force": got == expected,
        "scores_non_increasing": all(a >= b for a, b in itertools.pairwise(scores)),
        "top_explanation": answer["items"][0]["explanation"] if got else None,
    }
    if not result["page_equals_brute_force"]:
        result["first_difference"] = (
            next((i, g, e) for i, (g, e) in enumerate(zip(got, expected, strict=False)) if g != e)
            if any(g != e for g, e in zip(got, expected, strict=False))
            else ("length", len(got))
        )
    return result


def check_list(answer: dict[str, Any], keyword: str | None, limit: int) -> dict[str, Any]:
    items = answer["items"]
    refs = [int(item["ref"].split("-")[1]) for item in items]
    ok = len(items) == limit and refs == sorted(refs, reverse=True)
    if keyword:
        ok = ok and all(keyword in item["title"].lower() for item in items)
    return {"label": "check_list", "keyword": keyword, "items": len(items), "ok": ok}


def statement_counts(url: str, data_dir: Path, tokens: dict[str, str], body: str) -> dict[str, Any]:
    """SQL statements per request, counted in-process on the same database (after timing)."""
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

    from critdesk.app import create_app
    from critdesk.config import Settings

    # No embedded job runner here: its sweeps and deliveries would be counted as the request's.
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        rate_limit_cases_per_minute=0,
        secret_key="bench",
        embedded_jobs=False,
    )
    app = create_app(settings)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(app.state.db.engine, "before_cursor_execute", count)
    requests = {
        "create": ("POST", "/api/v1/cases", "alice", body.replace("{n}", "count")),
        "queue": ("GET", "/api/v1/queue", "eng1", None),
        "list": ("GET", "/api/v1/cases?limit=25", "eng1", None),
        "search": ("GET", "/api/v1/cases?q=printer&limit=25", "eng1", None),
    }
    out: dict[str, Any] = {"label": "sql_statements", "at": datetime.now(UTC).isoformat()}
    with TestClient(app) as client:
        for name, (method, path, who, content) in requests.items():
            client.request(method, path, headers=_headers(tokens[who]), content=content)
            statements.clear()
            answer = client.request(method, path, headers=_headers(tokens[who]), content=content)
            out[name] = {"status": answer.status_code, "statements": list(statements)}
    event.remove(app.state.db.engine, "before_cursor_execute", count)
    app.state.db.dispose()
    return out


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
