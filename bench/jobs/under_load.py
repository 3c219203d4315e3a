"""Breach latency while case creation saturates the machine (issue 5's ≤ 30 s, under load).

``critdesk serve --workers 2`` as ``make bench`` starts it (the job runner in its own niced
process), 20 cases made to fall due 15-53 s ahead, and meanwhile the creation load of
``make bench`` (16 clients, the peer's load client) for 70 s — far more e-mails than the runner
sends, so a backlog of routine notifications builds up. Then, per case: when the sweep marked
the breach (``sla_breach_sent_at``) and when its e-mail was sent, both − ``sla_due_at``.

    python -m bench.jobs.under_load [sqlite|postgres]

Prints one line per database; the figures go into ``bench/jobs/RESULTS.md`` by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from bench.run import LOAD, create_body
from bench.server import BenchDatabase, Server
from critdesk.case.models import Case
from critdesk.case.service import parse_ref
from critdesk.db import make_engine
from critdesk.notification.models import Notification

CASES = 20
LOAD_SECONDS = 70


def run(kind: str) -> dict[str, Any]:
    database = BenchDatabase(kind)
    server: Server | None = None
    try:
        tokens = database.prepare()
        server = Server(database, 8099, workers=2, flags=["--no-access-log"])
        server.wait_ready()
        body = create_body(server.get_json("/api/v1/me", tokens["alice"]))
        headers = {"Authorization": f"Bearer {tokens['alice']}", "Content-Type": "application/json"}
        ids = []
        for n in range(CASES):
            request = urllib.request.Request(
                server.base + "/api/v1/cases",
                data=body.replace("{n}", f"due-{n}").encode(),
                headers=headers,
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=30) as answer:
                ids.append(parse_ref(json.loads(answer.read())["ref"]))
        engine = make_engine(database.url_text, pool_size=1)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            for n, case_id in enumerate(ids):
                due = now + timedelta(seconds=15 + 2 * n)
                conn.execute(
                    update(Case)
                    .where(Case.id == case_id)
                    .values(sla_due_at=due, sla_warn_at=due - timedelta(seconds=5))
                )
        args = [sys.executable, str(LOAD), "--base", server.base, "--label", "create_under_sla"]
        args += ["--path", "/api/v1/cases", "--method", "POST", "--body", body]
        args += ["--header", f"Authorization: Bearer {tokens['alice']}"]
        args += ["--count", "1000000", "--concurrency", "16", "--max-seconds", str(LOAD_SECONDS)]
        done = subprocess.run(args, capture_output=True, text=True, timeout=LOAD_SECONDS + 120)
        load = json.loads(done.stdout.strip().splitlines()[-1])
        emailed = (
            select(func.max(Notification.sent_at))
            .where(
                Notification.case_id == Case.id,
                Notification.channel == "email",
                Notification.kind == "sla_breach",
            )
            .scalar_subquery()
        )
        with engine.connect() as conn:
            rows = conn.execute(
                select(Case.sla_due_at, Case.sla_breach_sent_at, emailed).where(Case.id.in_(ids))
            ).all()
        engine.dispose()
        swept = sorted((b - d).total_seconds() for d, b, _ in rows if b is not None)
        mailed = sorted((m - d).total_seconds() for d, _, m in rows if m is not None)
        return {
            "db": kind,
            "creation_req_s": load["rps_ok"],
            "creation_p99_ms": load["p99_ms"],
            "load_seconds": load["wall_s"],
            "cases": CASES,
            "breaches_swept": len(swept),
            "swept_max_s": round(swept[-1], 1) if swept else None,
            "breach_emails_sent_during_load": len(mailed),
            "emailed_median_s": round(mailed[len(mailed) // 2], 1) if mailed else None,
            "emailed_max_s": round(mailed[-1], 1) if mailed else None,
        }
    finally:
        if server is not None:
            server.stop()
        database.drop()


if __name__ == "__main__":
    for kind in sys.argv[1:] or ["sqlite", "postgres"]:
        print(json.dumps(run(kind)), flush=True)
