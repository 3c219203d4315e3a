"""Issue 7's redaction target: at least 5 MB/s of text redacted on one core.

Two inputs, each at least ``BENCH_REDACTION_MB`` (50) MB, redacted by the product's own
``critdesk.redaction.rules.redact`` in pieces of about 1 MB (the API's body limit), one
process, one thread:

* **mixed**: the labelled corpus (support e-mails, logs, configs, shell sessions, secrets)
  repeated, each repetition with fresh numbers so that the text is not one block copied;
* **log**: a generated Tomcat/log4j-style application log with stack traces, client IPs,
  user e-mails, URLs of the customer and the odd leaked password, as cases attach.

The known terms are those of a busy desk: ``BENCH_REDACTION_ORGS`` (2,000) organisation names
plus one organisation's contacts, environments and hosts. Compiling them is timed apart (once
per process and set of terms); throughput is bytes over the CPU time of this process
(``time.process_time``); wall time is shown too and depends on what else the machine runs.

Run ``python -m bench.redaction.run``; prints one JSON object; exits 1 if the target is missed.
"""

from __future__ import annotations

import json
import os
import platform
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from critdesk.redaction.evaluation import read_corpus
from critdesk.redaction.rules import KnownTerms, redact

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "tests" / "data" / "redaction"
TARGET_MB_S = 5.0
SIZE_MB = float(os.environ.get("BENCH_REDACTION_MB", "50"))
ORGANISATIONS = int(os.environ.get("BENCH_REDACTION_ORGS", "2000"))
PIECE = 1_000_000

_WORDS = [
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Woodgrove",
    "Litware",
    "Proseware",
    "Adventure",
    "Lamna",
    "Humongous",
    "Relecloud",
    "Southridge",
    "Wingtip",
    "Coho",
    "Alpine",
    "Trey",
    "Margie",
    "Datum",
    "Lucerne",
    "Wide",
    "Graphic",
    "Bellows",
    "Fincher",
    "Nod",
    "Olympia",
    "Consolidated",
    "Tasman",
    "Baldwin",
    "Kestrel",
    "Harbour",
    "Meridian",
    "Quarry",
    "Ashford",
    "Brightwater",
    "Copperfield",
    "Dunmore",
    "Elmstead",
    "Foxglove",
    "Greystone",
    "Hollins",
    "Ivybridge",
    "Juniper",
]
_KINDS = (
    "Insurance",
    "Health",
    "Retail",
    "Travel",
    "Bank plc",
    "Holdings Ltd",
    "Logistics GmbH",
    "Energy Inc.",
    "Airlines",
    "Foods",
    "Pharma AG",
    "Motors",
    "Telecom",
    "Mutual",
)


def desk_terms(count: int) -> KnownTerms:
    rng = random.Random(7)
    names: set[str] = {"Northwind Insurance", "Contoso Health", "Fabrikam Retail"}
    while len(names) < count:
        names.add(f"{rng.choice(_WORDS)}{rng.randrange(10, 999)} {rng.choice(_KINDS)}")
    return KnownTerms(
        organisations=tuple(sorted(names)),
        contacts=("Alice Northwind", "Bob Northwind", "Priya Raman"),
        emails=("alice@northwind.example", "bob@northwind.example"),
        environments=("nw-prod", "nw-uat"),
        hostnames=("northwind.example", "nwprddb01"),
    )


def mixed_text(size: int) -> str:
    texts = [item.text for item in read_corpus(CORPUS)]
    parts: list[str] = []
    total = repetition = 0
    while total < size:
        repetition += 1
        for text in texts:
            # Vary digits so that each repetition holds different numbers and addresses.
            varied = text.replace("0", str(repetition % 10)) if repetition % 3 else text
            parts.append(varied)
            total += len(varied) + 2
    return "\n\n".join(parts)


def log_text(size: int) -> str:
    rng = random.Random(11)
    lines: list[str] = []
    total = 0
    second = 0
    while total < size:
        second += rng.randrange(0, 3)
        stamp = (
            f"2026-11-25 {8 + second // 3600 % 12:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
        )
        thread = f"http-nio-8080-exec-{rng.randrange(1, 200)}"
        roll = rng.random()
        if roll < 0.80:
            line = (
                f"{stamp},{rng.randrange(1000):03d} INFO  [{thread}] c.v.r.http.Access - "
                f"GET /claims/api/v2/policies/{rng.randrange(10**6)} 200 {rng.randrange(900)} ms "
                f"client=10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            )
        elif roll < 0.92:
            line = (
                f"{stamp},{rng.randrange(1000):03d} WARN  [{thread}] c.v.r.session.Registry - "
                f"slow login for user{rng.randrange(5000)}@northwind.example from "
                f"https://portal.northwind.example/login?next=/claims/{rng.randrange(10**5)}"
            )
        elif roll < 0.995:
            frames = "\n".join(
                f"\tat com.vendor.runtime.module{n}.Service{rng.randrange(50)}.call"
                f"(Service{n}.java:{rng.randrange(20, 900)})"
                for n in range(rng.randrange(8, 30))
            )
            line = (
                f"{stamp},{rng.randrange(1000):03d} ERROR [{thread}] c.v.r.gateway.Upstream - "
                f"call to nwprddb01:5432 failed\njava.net.SocketTimeoutException: Read timed out\n"
                f"{frames}"
            )
        else:
            line = (
                f"{stamp},{rng.randrange(1000):03d} DEBUG [{thread}] c.v.r.jdbc.Pool - connect "
                f"jdbc:postgresql://nwprddb01:5432/claims?user=app&password=Pw{rng.randrange(10**6)}x!"
            )
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines)


def pieces(text: str) -> Iterator[str]:
    start = 0
    while start < len(text):
        end = text.find("\n", start + PIECE)
        end = len(text) if end == -1 else end + 1
        yield text[start:end]
        start = end


def measure(name: str, text: str, known: KnownTerms) -> dict[str, object]:
    size = len(text.encode("utf-8"))
    replacements = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for piece in pieces(text):
        replacements += len(redact(piece, known).replacements)
    cpu_used, wall_used = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "input": name,
        "bytes": size,
        "replacements": replacements,
        "cpu_seconds": round(cpu_used, 2),
        "wall_seconds": round(wall_used, 2),
        "mb_per_s_cpu": round(size / cpu_used / 1e6, 1),
        "mb_per_s_wall": round(size / wall_used / 1e6, 1),
    }


def main() -> int:
    size = int(SIZE_MB * 1e6)
    known = desk_terms(ORGANISATIONS)
    started = time.process_time()
    redact("warm-up: compile the matchers for these terms", known)
    compile_seconds = time.process_time() - started
    inputs = {"mixed": mixed_text(size), "log": log_text(size)}
    runs = [measure(name, text, known) for name, text in inputs.items()]
    figures: dict[str, object] = {
        "organisations_known": len(known.organisations),
        "compile_cpu_seconds": round(compile_seconds, 2),
        "runs": runs,
        "machine": {
            "python": platform.python_version(),
            "cpu": _cpu(),
            "cores": os.cpu_count(),
            "load_average": [round(x, 1) for x in os.getloadavg()],
        },
    }
    met = all(float(str(run["mb_per_s_cpu"])) >= TARGET_MB_S for run in runs)
    figures["target_mb_per_s_cpu"] = TARGET_MB_S
    figures["target_met"] = met
    print(json.dumps(figures, indent=2))
    return 0 if met else 1


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    sys.exit(main())
