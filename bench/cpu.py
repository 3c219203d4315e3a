"""Server CPU time per request, in-process: what the request costs, whatever the machine's load.

    python -m bench.cpu [sqlite|postgres|both] [create_count] [queue_count]

For each database: a fresh database with the demo data (as ``bench.run``), the app built by
``create_app`` in this process (no embedded job runner, no HTTP server), and requests sent one
at a time straight into the ASGI app (a bare ASGI call: no HTTP client, no sockets), then

* ``POST /api/v1/cases`` as alice (the bench's create body), ``create_count`` timed requests
  (default 300) after 30 warm-up ones;
* the bulk load to 100,000 open cases (``bench.dataset``), then ``GET /api/v1/queue`` as eng1,
  ``queue_count`` timed requests (default 200) after 20 warm-up ones.

Prints, per scenario, the process CPU time per request (``time.process_time``: every thread of
this process, so FastAPI's worker threads count), and on PostgreSQL the CPU time of the
database's server processes per request too. Wall time is printed for information only: the
machine is shared. ``BENCH_CPU_REUSE=<folder>`` (SQLite only) keeps the database in that
folder and reuses it on the next run (the 100k load then happens once).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url

from bench import dataset
from bench.measure import cpu_seconds
from bench.run import OPEN_CASES, create_body
from bench.server import BenchDatabase
from critdesk.app import create_app
from critdesk.config import Settings
from critdesk.db import Database, make_engine

WARMUP = {"create": 30, "queue": 20}


class WriteHold:
    """How long write transactions last, BEGIN to COMMIT or ROLLBACK (on SQLite: the time the
    write lock is held), in process CPU time and in wall time; requests run one at a time."""

    def __init__(self, engine: Any) -> None:
        self.cpu = self.wall = 0.0
        self.count = 0
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    def _begin(self, conn: Any) -> None:
        if not conn.get_execution_options().get("critdesk_read_only", False):
            conn.info["bench_write_began"] = (time.process_time(), time.perf_counter())

    def _end(self, conn: Any) -> None:
        began = conn.info.pop("bench_write_began", None)
        if began is not None:
            self.cpu += time.process_time() - began[0]
            self.wall += time.perf_counter() - began[1]
            self.count += 1

    def reset(self) -> None:
        self.cpu = self.wall = 0.0
        self.count = 0

    def per_request(self, requests: int) -> dict[str, float]:
        return {
            "write_tx_per_request": round(self.count / requests, 2),
            "write_tx_cpu_ms_per_request": round(1000 * self.cpu / requests, 2),
            "write_tx_wall_ms_per_request": round(1000 * self.wall / requests, 2),
        }


async def call(
    app: Any, method: str, path: str, token: str, body: bytes = b""
) -> tuple[int, bytes]:
    """One request through the ASGI app, as a server would send it; (status, body)."""
    path, _, query = path.partition("?")
    headers = [
        (b"host", b"127.0.0.1"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"accept", b"application/json"),
    ]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8099),
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def measure(
    app: Any,
    label: str,
    requests: list[tuple[str, str, str, bytes]],
    warmup: int,
    expect: int,
    hold: WriteHold,
) -> dict[str, Any]:
    for method, path, token, body in requests[:warmup]:
        status, answer = await call(app, method, path, token, body)
        if status != expect:
            raise SystemExit(f"{label}: {method} {path} answered {status}: {answer[:300]!r}")
    timed = requests[warmup:]
    hold.reset()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for method, path, token, body in timed:
        status, answer = await call(app, method, path, token, body)
        if status != expect:
            raise SystemExit(f"{label}: {method} {path} answered {status}: {answer[:300]!r}")
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "scenario": label,
        "requests": len(timed),
        "cpu_ms_per_request": round(1000 * cpu / len(timed), 2),
        "wall_ms_per_request": round(1000 * wall / len(timed), 2),
    } | hold.per_request(len(timed))


def run(kind: str, create_count: int, queue_count: int) -> list[dict[str, Any]]:
    reuse = os.environ.get("BENCH_CPU_REUSE") if kind == "sqlite" else None
    database = BenchDatabase(kind)
    tokens_file = None
    if reuse:
        folder = Path(reuse).resolve()
        database.folder = folder
        database.env["CRITDESK_DATA_DIR"] = str(folder / "data")
        database.url = make_url(f"sqlite:///{folder / 'data' / 'critdesk.sqlite3'}")
        tokens_file = folder / "tokens.json"
    results = []
    try:
        if tokens_file is not None and tokens_file.exists():
            tokens = json.loads(tokens_file.read_text())
        else:
            tokens = database.prepare()
            if tokens_file is not None:
                tokens_file.write_text(json.dumps(tokens))
        settings = Settings(
            data_dir=database.folder / "data",
            database_url=database.url_text,
            rate_limit_cases_per_minute=0,
            secret_key="bench-only-secret",
            embedded_jobs=False,
        )
        db = Database(make_engine(database.url_text, pool_size=5))
        app = create_app(settings, database=db)
        hold = WriteHold(db.engine)
        loop = asyncio.new_event_loop()

        def db_cpu() -> float:
            return cpu_seconds(database.backend_pids())

        try:
            _status, me = loop.run_until_complete(call(app, "GET", "/api/v1/me", tokens["alice"]))
            template = create_body(json.loads(me))
            creates = [
                ("POST", "/api/v1/cases", tokens["alice"], template.replace("{n}", str(n)).encode())
                for n in range(WARMUP["create"] + create_count)
            ]
            before = db_cpu()
            result = loop.run_until_complete(
                measure(app, "create", creates, WARMUP["create"], 201, hold)
            )
            result["db_cpu_ms_per_request"] = _per_request(db_cpu() - before, len(creates))
            results.append(result)
            print(json.dumps({"db": kind} | result), flush=True)

            engine = make_engine(database.url_text, pool_size=2)
            filled = dataset.fill(
                engine, target_open=OPEN_CASES, now=datetime.now(UTC), per_package=8
            )
            engine.dispose()
            print(f"# data set: {filled['open_cases']} open cases", file=sys.stderr, flush=True)
            queue = [
                ("GET", "/api/v1/queue", tokens["eng1"], b"")
                for _ in range(WARMUP["queue"] + queue_count)
            ]
            before = db_cpu()
            result = loop.run_until_complete(
                measure(app, "queue", queue, WARMUP["queue"], 200, hold)
            )
            result["db_cpu_ms_per_request"] = _per_request(db_cpu() - before, len(queue))
            results.append(result)
            print(json.dumps({"db": kind} | result), flush=True)
        finally:
            loop.close()
            db.dispose()
    finally:
        if not reuse:
            database.drop()
    return results


def _per_request(seconds: float, count: int) -> float | None:
    # Counted over warm-up and timed requests alike (the backends' CPU is read from /proc).
    return round(1000 * seconds / count, 2) if seconds else None


def main() -> int:
    which = sys.argv[1] if len(sys.argv) > 1 else "both"
    create_count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    queue_count = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    kinds = ["sqlite", "postgres"] if which == "both" else [which]
    load = os.getloadavg()[0]
    print(f"# load average {load:.2f}, {os.cpu_count()} cores", file=sys.stderr, flush=True)
    for kind in kinds:
        run(kind, create_count, queue_count)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
