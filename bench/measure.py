"""What the benchmark reads from /proc: CPU time, memory, the machine and its versions."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from critdesk.jobs.pressure import read_stat

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (their threads included); gone ones count 0."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


@dataclass(frozen=True, slots=True)
class MachineCpu:
    """All processors' busy and total seconds so far, read as the job runner reads them
    (``critdesk.jobs.pressure.read_stat``: idle and I/O wait are not busy; steal, the
    hypervisor's, is neither)."""

    busy: float
    total: float

    @classmethod
    def now(cls) -> MachineCpu:
        read = read_stat(Path("/proc/stat").read_text(), TICKS)
        if read is None:
            raise RuntimeError("/proc/stat has no 'cpu' line this benchmark can read")
        return cls(*read)

    def busy_share_since(self, earlier: MachineCpu) -> float | None:
        total = self.total - earlier.total
        return round((self.busy - earlier.busy) / total, 3) if total else None

    def busy_seconds_since(self, earlier: MachineCpu) -> float:
        """CPU seconds all processes of the machine used meanwhile (all cores together)."""
        return self.busy - earlier.busy


def wait_for_quiet(limit_share: float, settle_s: float, max_wait_s: float) -> tuple[float, float]:
    """Waits (bounded) until the machine has been under ``limit_share`` busy for ``settle_s``.

    The machine is shared with other work (test suites); a benchmark that starts while they run
    measures them too. Returns (seconds waited, busy share of the last sample).
    """
    started = time.monotonic()
    while True:
        before = MachineCpu.now()
        time.sleep(settle_s)
        share = MachineCpu.now().busy_share_since(before) or 0.0
        waited = time.monotonic() - started
        if share <= limit_share or waited >= max_wait_s:
            return round(waited, 1), share


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _kv(path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            out[key.strip()] = value.strip()
    except OSError:
        pass
    return out


def _mib(value: str | None) -> float | None:
    return round(int(value.split()[0]) / 1024, 1) if value else None


def memory(pid: int) -> dict[str, Any]:
    status, rollup = _kv(f"/proc/{pid}/status"), _kv(f"/proc/{pid}/smaps_rollup")
    return {
        "pid": pid,
        "rss_mib": _mib(status.get("VmRSS")),
        "hwm_mib": _mib(status.get("VmHWM")),
        "pss_mib": _mib(rollup.get("Pss")),
    }


def rss_record(master: int, workers: list[int], phase: str) -> dict[str, Any]:
    """The peer's rss.py record: the server's master and worker processes, in MiB."""
    m = memory(master)
    ws = [memory(w) for w in workers]
    return {
        "label": "rss",
        "phase": phase,
        "master": m,
        "workers": ws,
        "workers_rss_total_mib": round(sum(w["rss_mib"] or 0 for w in ws), 1),
        "all_pss_total_mib": round((m["pss_mib"] or 0) + sum(w["pss_mib"] or 0 for w in ws), 1),
    }


def _first(pattern: str, text: str) -> str | None:
    found = re.search(pattern, text, re.MULTILINE)
    return found.group(1).strip() if found else None


def _run(*args: str) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(pg_version: str | None) -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    meminfo = _kv("/proc/meminfo")
    lscpu = _run("lscpu")
    from importlib.metadata import version

    packages = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic")
    packages += ("sqlalchemy", "psycopg", "aiohttp")
    return {
        "label": "machine",
        "nproc": os.cpu_count(),
        "cpu_model": _first(r"^model name\s*:(.*)$", cpuinfo),
        "threads_per_core": _first(r"^Thread\(s\) per core:(.*)$", lscpu),
        "hypervisor": _first(r"^Hypervisor vendor:(.*)$", lscpu),
        "ram_gib": round(int(meminfo["MemTotal"].split()[0]) / 1024**2, 1),
        "kernel": platform.release(),
        "os": _first(r'^PRETTY_NAME="?([^"]*)"?$', _read("/etc/os-release")),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg_version,
        "packages": {name: _version(version, name) for name in packages},
        "argv": sys.argv,
        "git": _git(),
    }


def _git() -> dict[str, Any]:
    """The code measured: the commit, and how many files differ from it (work in progress)."""
    root = Path(__file__).resolve().parent.parent
    head = _run("git", "-C", str(root), "rev-parse", "--short", "HEAD").strip()
    changed = [
        line
        for line in _run("git", "-C", str(root), "status", "--porcelain").splitlines()
        if line and not line[3:].startswith("bench/")
    ]
    return {"commit": head or None, "uncommitted_files_outside_bench": len(changed)}


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _version(version: Any, name: str) -> str | None:
    try:
        return str(version(name))
    except Exception:
        return None
