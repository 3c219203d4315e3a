"""Where a request's CPU time goes: one scenario under load, sampled by py-spy.

    python -m bench.profile sqlite|postgres create|queue|list|search [clients] [seconds]

Same set-up as ``bench.run`` (fresh database, demo data, ``critdesk serve --workers 2``, and
for the reads the 100,000-case data set), then the peer's load generator runs the scenario
while ``py-spy record --gil --subprocesses`` samples the server (only threads holding the
GIL: Python's CPU time, not waiting). Prints the time by layer (from each sample's innermost
frame) and the heaviest functions, and writes the raw samples and that summary to
``bench/results/profile-<db>-<scenario>-c<clients>.txt``. Nothing else is kept.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench import dataset
from bench.run import LOAD, OPEN_CASES, READS, create_body
from bench.server import BIN, BenchDatabase, Server
from critdesk.db import make_engine

HERE = Path(__file__).resolve().parent
FRAME = re.compile(r"^(?P<function>.*) \((?P<path>.*?):\d+\)$")
# (layer, pattern on "path:function" of the innermost frame), first match wins
LAYERS = [
    ("database driver: execute/commit", r"sqlalchemy/engine/default\.py:.*do_(execute|commit)"),
    ("database driver: execute/commit", r"^psycopg/|sqlite3"),
    ("database driver: fetch rows", r"sqlalchemy/engine/cursor\.py:.*[Ff]etch"),
    ("SQLAlchemy (ORM, SQL, types)", r"^sqlalchemy/"),
    ("critdesk code (incl. UTCDateTime)", r"^critdesk/"),
    ("pydantic (validation, JSON)", r"^pydantic"),
    ("json (stdlib)", r"^json/"),
    ("FastAPI / Starlette", r"^(fastapi|starlette)/"),
    ("uvicorn, asyncio, thread hops", r"^(uvicorn|asyncio|anyio|threading|queue|selectors)"),
    ("logging", r"^logging/"),
    ("templates (jinja2)", r"^jinja2/|^<template>|\.(html|txt):"),
    ("e-mail building (stdlib email)", r"^email/"),
]


def _key(frame: str) -> str:
    found = FRAME.match(frame)
    if not found:
        return frame
    path = re.sub(r".*site-packages/", "", found["path"])
    path = re.sub(r".*/src/", "", path)
    path = re.sub(r".*/lib/python3\.\d+/", "", path)
    return f"{path}:{found['function']}"


def summarise(raw: str, top: int = 40) -> str:
    layers: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        keys = [_key(f) for f in stack.split(";")]
        if any(k.endswith("EmbeddedRunner._loop") for k in keys):
            thread = "background jobs (the embedded runner's thread: sweeps, outbox delivery)"
        elif any(k.startswith(("critdesk/", "fastapi/", "starlette/", "uvicorn/")) for k in keys):
            thread = "serving requests (event loop and request threads)"
        else:
            thread = "other (supervisor, health checks, idle pool threads)"
        threads[thread] += n
        total += n
        leaf = keys[-1]
        layer = next((name for name, pattern in LAYERS if re.search(pattern, leaf)), "other")
        layers[layer] += n
        for key in set(keys):
            inclusive[key] += n
    lines = [f"samples (GIL held, all threads of the server's processes): {total}", ""]
    lines += ["by thread:"] + [f"  {100 * v / total:5.1f}%  {k}" for k, v in threads.most_common()]
    lines += ["", "by layer (innermost frame):"]
    lines += [f"  {100 * v / total:5.1f}%  {k}" for k, v in layers.most_common()]
    lines += ["", "heaviest functions (inclusive):"]
    for key, value in inclusive.most_common(400):
        if key.startswith(("critdesk/", "fastapi/routing", "pydantic", "sqlalchemy/orm/session")):
            lines.append(f"  {100 * value / total:5.1f}%  {key}")
            top -= 1
            if top == 0:
                break
    return "\n".join(lines)


def main() -> int:
    kind, scenario = sys.argv[1], sys.argv[2]
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    seconds = int(sys.argv[4]) if len(sys.argv) > 4 else 15
    database = BenchDatabase(kind)
    server: Server | None = None
    try:
        tokens = database.prepare()
        server = Server(database, 8099, workers=2, flags=["--no-access-log"])
        server.wait_ready()
        if scenario != "create":
            engine = make_engine(database.url_text, pool_size=2)
            dataset.fill(engine, target_open=OPEN_CASES, now=datetime.now(UTC), per_package=8)
            engine.dispose()
        args = [sys.executable, str(LOAD), "--base", server.base, "--label", scenario]
        args += ["--concurrency", str(clients), "--count", "1000000", "--warmup", "50"]
        args += ["--max-seconds", str(seconds + 4)]
        if scenario == "create":
            body = create_body(server.get_json("/api/v1/me", tokens["alice"]))
            args += ["--method", "POST", "--path", "/api/v1/cases", "--body", body]
            args += ["--header", f"Authorization: Bearer {tokens['alice']}"]
        else:
            args += [
                "--path",
                READS[scenario],
                "--header",
                f"Authorization: Bearer {tokens['eng1']}",
            ]
        load = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        time.sleep(2)
        raw_path = database.folder / "samples.txt"
        spy = [str(BIN / "py-spy"), "record", "--gil", "--subprocesses", "--rate", "500"]
        spy += ["--duration", str(seconds), "--format", "raw", "--output", str(raw_path)]
        subprocess.run(
            [*spy, "--pid", str(server.process.pid)],
            check=True,
            capture_output=True,
            timeout=seconds + 60,
        )
        result = load.communicate(timeout=seconds + 60)[0].strip()
        report = f"{kind} {scenario} c{clients}, {seconds} s sampled\nload: {result}\n\n"
        report += summarise(raw_path.read_text())
        print(report)
        out = HERE / "results" / f"profile-{kind}-{scenario}-c{clients}.txt"
        out.write_text(report + "\n")
        print(f"\nwritten to {out.relative_to(HERE.parent)}", file=sys.stderr)
    finally:
        if server is not None:
            server.stop()
        database.drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
