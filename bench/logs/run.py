"""Issue 6's log-analysis target: a 1 GiB Tomcat-style log with stack traces is analysed at
50 MB/s or more on one core, in at most 300 MB of resident memory, with progress visible.

The log is generated streaming to a temporary file (``bench.logs.generate``), then a child
process runs the very code of the background job — ``logs.analysis.Analyzer`` over the file
through ``reader.CountingReader``, the progress callback of ``logs.jobs`` — and prints its
progress (bytes read, percent, rate) once a second, as the job writes it to the database.
Throughput is reported against the child's CPU time (one core; the wall time is shown too,
and depends on what else the machine runs) and its peak resident memory is its
``ru_maxrss``.

Run ``python -m bench.logs.run`` (``BENCH_LOGS_MIB`` changes the size, 1024 by default;
``BENCH_LOGS_FILE`` reuses a file). Prints one JSON object last; exits 1 if a target is missed.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1024**2
SIZE_MIB = int(os.environ.get("BENCH_LOGS_MIB", "1024"))
TARGET_MB_S = 50.0
TARGET_RSS_MB = 300.0


def child(path: Path) -> None:
    """Analyses ``path`` as the job does, printing progress; prints its figures last."""
    from critdesk.logs.analysis import Analyzer, Options
    from critdesk.logs.reader import CountingReader

    size = path.stat().st_size
    started, cpu = time.perf_counter(), time.process_time()
    last = [started]
    analyzer = Analyzer(Options(year=2026))
    with path.open("rb") as raw:
        counting = CountingReader(raw)

        def progress() -> None:
            now = time.perf_counter()
            if now - last[0] >= 1.0:
                last[0] = now
                done = counting.count
                rate = done / (time.process_time() - cpu) / 1e6
                print(
                    f"progress {done / MIB:8.0f} MiB  {100 * done / size:5.1f}%  "
                    f"{rate:5.1f} MB/s (CPU)",
                    file=sys.stderr,
                    flush=True,
                )

        analyzer.add_file(counting, path.name, on_block=progress)  # type: ignore[arg-type]
    summary = analyzer.summary()
    wall, cpu_used = time.perf_counter() - started, time.process_time() - cpu
    print(
        json.dumps(
            {
                "bytes": size,
                "lines": summary["lines"],
                "events": summary["events"],
                "signatures": summary["signature_count"],
                "top": [s["fingerprint"] for s in summary["signatures"][:3]],
                "wall_seconds": round(wall, 2),
                "cpu_seconds": round(cpu_used, 2),
                "mb_per_s_cpu": round(size / cpu_used / 1e6, 1),
                "mb_per_s_wall": round(size / wall / 1e6, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


def main() -> int:
    from bench.logs import generate

    with tempfile.TemporaryDirectory(prefix="critdesk-bench-logs-") as folder:
        path = Path(os.environ.get("BENCH_LOGS_FILE") or Path(folder) / "catalina.log")
        if not path.exists():
            started = time.perf_counter()
            lines = generate.write(path, SIZE_MIB * MIB)
            print(
                f"generated {path.stat().st_size / MIB:.0f} MiB, {lines} lines in "
                f"{time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
        run = subprocess.run(
            [sys.executable, "-m", "bench.logs.run", "--child", str(path)],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    figures["machine"] = {
        "python": platform.python_version(),
        "cpu": _cpu(),
        "cores": os.cpu_count(),
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }
    figures["targets"] = {
        "mb_per_s_cpu": figures["mb_per_s_cpu"] >= TARGET_MB_S,
        "peak_rss_mb": figures["peak_rss_mb"] <= TARGET_RSS_MB,
    }
    print(json.dumps(figures, indent=2))
    return 0 if all(figures["targets"].values()) else 1


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]))
        sys.exit(0)
    sys.exit(main())
