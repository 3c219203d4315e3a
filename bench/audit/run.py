"""The audit chain's cost: sealing and verifying throughput.

Writes ``BENCH_AUDIT_EVENTS`` (default 200,000) unsealed audit events the way the desk does
(rows shaped like real ones: case changes, downloads with a sha256, views), then times
``seal`` (in committed units of ``SEAL_LIMIT`` events, as the sweep and ``critdesk audit seal``
do) and a full ``verify`` walk, and reports rows/s and the process's peak memory growth during
the walk (bounded: it reads ``VERIFY_BATCH`` rows at a time).

Run ``python -m bench.audit.run``. ``BENCH_AUDIT_DATABASE_URL`` names the PostgreSQL server
(default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; a database
``critdesk_bench_audit`` is created afresh and dropped at the end); ``BENCH_AUDIT_BACKENDS``
(default ``postgresql,sqlite``) picks the databases (SQLite in a temporary file). Prints one
JSON object per backend.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from critdesk.audit import chain
from critdesk.audit.models import AuditEvent
from critdesk.audit.rules import GENESIS, digest
from critdesk.db import Database, make_engine
from critdesk.migration import upgrade

SERVER_URL = os.environ.get(
    "BENCH_AUDIT_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
EVENTS = int(os.environ.get("BENCH_AUDIT_EVENTS", "200000"))
BACKENDS = os.environ.get("BENCH_AUDIT_BACKENDS", "postgresql,sqlite").split(",")
DATABASE = "critdesk_bench_audit"
WRITE_BATCH = 2000
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _row(i: int) -> dict[str, Any]:
    ref = f"PCH-{i % 5000 + 1:06d}"
    kind = i % 4
    data: dict[str, Any]
    if kind == 0:
        action, object_type, object_id = "case.assigned", "case", ref
        data = {"message": "Assigned to the on-call engineer", "engineer": "eng1@vendor.example"}
    elif kind == 1:
        action, object_type, object_id = "attachment.downloaded", "attachment", str(i)
        data = {
            "case": ref,
            "name": f"server-{i}.log",
            "sha256": hashlib.sha256(b"%d" % i).hexdigest(),
        }
    elif kind == 2:
        action, object_type, object_id = "case.viewed", "case", ref
        data = {"case": ref}
    else:
        action, object_type, object_id = "case.comment", "case", ref
        data = {"message": "Restarted the runtime; the pool recovered. " * 3, "internal": False}
    return {
        "at": T0 + timedelta(milliseconds=i * 37),
        "actor_id": None,
        "organisation_id": i % 40 + 1,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "data": data,
    }


def _write(database: Database) -> float:
    started = time.perf_counter()
    for first in range(0, EVENTS, WRITE_BATCH):
        with database.session() as db:
            db.execute(
                insert(AuditEvent),
                [_row(i) for i in range(first, min(EVENTS, first + WRITE_BATCH))],
            )
    return time.perf_counter() - started


def _seal(database: Database) -> tuple[float, int]:
    started, total = time.perf_counter(), 0
    while True:
        with database.session() as db:
            sealed = chain.seal(db, datetime.now(UTC), wait=True)
        total += sealed
        if sealed < chain.SEAL_LIMIT:
            return time.perf_counter() - started, total


def _digest_only(rows: int = 20_000) -> float:
    """Hashes per second in Python alone: the ceiling of sealing and verifying on this CPU."""
    events = [_row(i) | {"id": i} for i in range(rows)]
    started, previous = time.perf_counter(), GENESIS
    for seq, event in enumerate(events, start=1):
        previous = digest(seq, previous, event)
    return rows / (time.perf_counter() - started)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _verify(database: Database) -> tuple[float, chain.VerifyResult, float]:
    before = _rss_mib()
    started = time.perf_counter()
    with database.session(read_only=True) as db:
        result = chain.verify(db)
    return time.perf_counter() - started, result, _rss_mib() - before


def bench(url: str, backend: str) -> dict[str, Any]:
    upgrade(url)
    database = Database(make_engine(url, pool_size=2))
    try:
        write_s = _write(database)
        seal_s, sealed = _seal(database)
        verify_s, result, rss_growth = _verify(database)
        with database.session(read_only=True) as db:
            count = db.scalar(select(func.count()).select_from(AuditEvent))
    finally:
        database.dispose()
    assert result.ok and result.checked == EVENTS == sealed == count, result.problem
    return {
        "backend": backend,
        "events": EVENTS,
        "write_unsealed_rows_per_s": round(EVENTS / write_s),
        "seal_s": round(seal_s, 2),
        "seal_rows_per_s": round(EVENTS / seal_s),
        "verify_s": round(verify_s, 2),
        "verify_rows_per_s": round(EVENTS / verify_s),
        "verify_peak_rss_growth_mib": round(rss_growth, 1),
        "digest_only_rows_per_s": round(_digest_only()),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }


def _postgres() -> dict[str, Any]:
    admin = create_engine(make_url(SERVER_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    url = make_url(SERVER_URL).set(database=DATABASE).render_as_string(hide_password=False)
    try:
        return bench(url, "postgresql")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        admin.dispose()


def _sqlite() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="critdesk-bench-audit-") as folder:
        return bench(f"sqlite:///{Path(folder) / 'audit.sqlite3'}", "sqlite")


def main() -> int:
    runs = {"postgresql": _postgres, "sqlite": _sqlite}
    for backend in BACKENDS:
        print(json.dumps(runs[backend.strip()]()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
