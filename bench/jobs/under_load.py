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

from sqlalchemy import bindparam, text

from bench.run import CREATE_BODY, LOAD
from bench.server import BenchDatabase, Server
from critdesk.db import make_engine

CASES = 20
LOAD_SECONDS = 70


def _at(value: Any) -> datetime:
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def run(kind: str) -> dict[str, Any]:
    database = BenchDatabase(kind)
    server: Server | None = None
    try:
        tokens = database.prepare()
        server = Server(database, 8099, workers=2, flags=["--no-access-log"])
        server.wait_ready()
        me = server.get_json("/api/v1/me", tokens["alice"])
        env = next(e for e in me["organisation"]["environments"] if e["name"] == "nw-prod")
        body = CREATE_BODY.replace('"environment_id": 0', f'"environment_id": {env["id"]}')
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
                ids.append(int(json.loads(answer.read())["ref"].rsplit("-", 1)[1]))
        engine = make_engine(database.url_text, pool_size=1)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            for n, case_id in enumerate(ids):
                due = now + timedelta(seconds=15 + 2 * n)
                conn.execute(
                    text("UPDATE cases SET sla_due_at = :due, sla_warn_at = :warn WHERE id = :id"),
                    {"due": due, "warn": due - timedelta(seconds=5), "id": case_id},
                )
        args = [sys.executable, str(LOAD), "--base", server.base, "--label", "create_under_sla"]
        args += ["--path", "/api/v1/cases", "--method", "POST", "--body", body]
        args += ["--header", f"Authorization: Bearer {tokens['alice']}"]
        args += ["--count", "1000000", "--concurrency", "16", "--max-seconds", str(LOAD_SECONDS)]
        done = subprocess.run(args, capture_output=True, text=True, timeout=LOAD_SECONDS + 120)
        load = json.loads(done.stdout.strip().splitlines()[-1])
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.sla_due_at, c.sla_breach_sent_at, (SELECT max(n.sent_at)"
                    " FROM notifications n WHERE n.case_id = c.id AND n.channel = 'email'"
                    " AND n.kind = 'sla_breach') FROM cases c WHERE c.id IN :ids"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": ids},
            ).all()
        engine.dispose()
        swept = sorted((_at(b) - _at(d)).total_seconds() for d, b, _ in rows if b is not None)
        mailed = sorted((_at(m) - _at(d)).total_seconds() for d, _, m in rows if m is not None)
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
