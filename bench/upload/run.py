"""Issue 3's upload target: a 1 GiB upload to ``critdesk serve`` over loopback keeps the
server's resident memory growth under 64 MiB and runs at 200 MB/s or more.

A real server (``critdesk serve``, one worker, SQLite, a temporary data folder) on a free
port of 127.0.0.1; the demo data; a customer's case; then a multipart upload whose body is
generated on the fly (one random MiB, repeated) and streamed by httpx, so the client holds no
more than a MiB either. The server's VmRSS is sampled from /proc while the upload runs. The
stored file's SHA-256 is checked, both as the API reports it and as read back from disk
(decrypted with the data folder's key: attachments are sealed with AES-256-GCM at rest, and the
file on disk must start with the sealed-file header). Each upload is then downloaded once
through the API (decrypting as it streams) and its throughput reported too.

Run ``python -m bench.upload.run`` (``BENCH_UPLOAD_MIB`` changes the size, ``BENCH_UPLOAD_REPS``
the number of timed uploads, 3 by default; ``BENCH_UPLOAD_PROFILE=FILE`` records the server with
py-spy during the timed uploads, in py-spy's collapsed-stack format). Prints one JSON object;
the exit status is 1 if a target is missed or a checksum differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from critdesk.adapters.storage import storage_from_settings
from critdesk.config import Settings
from critdesk.privacy.encryption import MAGIC

MIB = 1024**2
SIZE_MIB = int(os.environ.get("BENCH_UPLOAD_MIB", "1024"))
REPS = int(os.environ.get("BENCH_UPLOAD_REPS", "3"))
PROFILE = os.environ.get("BENCH_UPLOAD_PROFILE")
TARGET_MB_PER_S = 200
TARGET_RSS_GROWTH_MIB = 64
BOUNDARY = "critdesk-bench-upload-boundary"
BIN = Path(sys.executable).parent
CUSTOMER = "alice@northwind.example"
PASSWORD = "demo-password-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


class RssSampler(threading.Thread):
    """The largest VmRSS of one process, read every few milliseconds until stopped."""

    def __init__(self, pid: int, every: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak_kib = status_kib(pid, "VmRSS")
        self.samples = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak_kib = max(self.peak_kib, status_kib(self.pid, "VmRSS"))
            self.samples += 1
            time.sleep(self.every)

    def stop(self) -> int:
        self.stopped.set()
        self.join()
        return self.peak_kib


class Body:
    """A multipart body of ``size`` bytes of file content, generated as it is sent."""

    def __init__(self, size_mib: int, name: str = "bench.bin") -> None:
        self.block = os.urandom(MIB)
        self.blocks = size_mib
        self.head = (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.length = len(self.head) + self.blocks * MIB + len(self.tail)
        self.sha256 = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        for _ in range(self.blocks):
            self.sha256.update(self.block)
            yield self.block
        yield self.tail


class Server:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CRITDESK_")},
            "CRITDESK_DATA_DIR": str(folder / "data"),
            "CRITDESK_SECRET_KEY": "bench-only-secret",
            "CRITDESK_RATE_LIMIT_CASES_PER_MINUTE": "0",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *args: str) -> None:
        subprocess.run(
            [str(BIN / "critdesk"), *args],
            cwd=self.folder,
            env=self.env,
            check=True,
            capture_output=True,
        )

    def start(self) -> str:
        self.command("db", "upgrade")
        self.command("demo")
        log = (self.folder / "server.log").open("wb")
        self.process = subprocess.Popen(
            [str(BIN / "critdesk"), "serve", "--port", str(self.port), "--no-access-log"],
            cwd=self.folder,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    return url
            except httpx.TransportError:
                time.sleep(0.2)
        raise SystemExit("the server did not start; see " + str(self.folder / "server.log"))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def open_case(client: httpx.Client) -> str:
    token = client.post("/api/v1/auth/token", json={"email": CUSTOMER, "password": PASSWORD})
    client.headers["Authorization"] = f"Bearer {token.raise_for_status().json()['token']}"
    me = client.get("/api/v1/me").raise_for_status().json()
    environment = next(e for e in me["organisation"]["environments"] if e["production"])
    case = client.post(
        "/api/v1/cases",
        json={
            "title": "Upload benchmark",
            "description": "A large log bundle for the upload benchmark.",
            "environment_id": environment["id"],
            "impact": {"app_unavailable": True},
            "breadth": "all_users",
            "end_users_blocked": True,
        },
    )
    return str(case.raise_for_status().json()["ref"])


def upload(client: httpx.Client, ref: str, body: Body) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    response = client.post(
        f"/api/v1/cases/{ref}/attachments",
        content=iter(body),
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(body.length),
        },
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise SystemExit(f"upload refused: {response.status_code} {response.text}")
    return response.json(), elapsed


def stored_sha256(data_dir: Path) -> dict[int, str]:
    """Every stored file's plaintext size and digest, read back from disk and decrypted with
    the server's key file; a file that is not sealed is left out."""
    storage = storage_from_settings(Settings(data_dir=data_dir, storage_keys=None))
    digests = {}
    for key in storage.iter_keys():
        with (data_dir / "attachments" / key).open("rb") as raw:
            if raw.read(len(MAGIC)) != MAGIC:
                continue
        digest = hashlib.sha256()
        size = 0
        with storage.open_read(key) as stream:
            while chunk := stream.read(8 * MIB):
                digest.update(chunk)
                size += len(chunk)
        digests[size] = digest.hexdigest()
    return digests


def download(client: httpx.Client, ref: str, attachment_id: int) -> tuple[str, int, float]:
    """(SHA-256, bytes, seconds) of one attachment downloaded through the API."""
    digest = hashlib.sha256()
    size = 0
    started = time.perf_counter()
    with client.stream("GET", f"/api/v1/cases/{ref}/attachments/{attachment_id}") as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(MIB):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size, time.perf_counter() - started


def timed_upload(client: httpx.Client, ref: str, pid: int, data_dir: Path) -> dict[str, Any]:
    body = Body(SIZE_MIB)
    before_kib = status_kib(pid, "VmRSS")
    sampler = RssSampler(pid)
    sampler.start()
    cpu_before, client_before = cpu_seconds(pid), time.process_time()
    created, elapsed = upload(client, ref, body)
    server_cpu, client_cpu = cpu_seconds(pid) - cpu_before, time.process_time() - client_before
    peak_kib = sampler.stop()
    on_disk = stored_sha256(data_dir).get(SIZE_MIB * MIB)
    downloaded, downloaded_bytes, download_seconds = download(client, ref, created["id"])
    for path in (data_dir / "attachments").rglob("*"):
        if path.is_file():
            path.unlink()  # keep the disk usage of a run bounded to one file
    return {
        "bytes": SIZE_MIB * MIB,
        "seconds": round(elapsed, 3),
        "mb_per_s": round(SIZE_MIB * MIB / elapsed / 1e6, 1),
        "rss_before_mib": round(before_kib / 1024, 1),
        "rss_peak_mib": round(peak_kib / 1024, 1),
        "rss_growth_mib": round((peak_kib - before_kib) / 1024, 1),
        "rss_samples": sampler.samples,
        "server_cpu_s": round(server_cpu, 2),
        "client_cpu_s": round(client_cpu, 2),
        "download_seconds": round(download_seconds, 3),
        "download_mb_per_s": round(downloaded_bytes / download_seconds / 1e6, 1),
        "sha256_matches": created["sha256"] == body.sha256.hexdigest() == on_disk == downloaded,
        "size_matches": created["size"] == SIZE_MIB * MIB,
    }


def start_profiler(pid: int) -> subprocess.Popen[bytes] | None:
    if not PROFILE:
        return None
    command = [str(BIN / "py-spy"), "record", "--pid", str(pid), "--format", "raw"]
    command += ["--rate", "250", "--threads", "--output", PROFILE]
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # attached before the first timed byte
    return profiler


def stop_profiler(profiler: subprocess.Popen[bytes] | None) -> None:
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(timeout=60)


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kib / 1024**2, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="critdesk-bench-upload-"))
    server = Server(folder)
    try:
        url = server.start()
        assert server.process is not None
        pid = server.process.pid
        with httpx.Client(base_url=url, timeout=httpx.Timeout(600, connect=10)) as client:
            ref = open_case(client)
            # Warm-up: imports, the first database connection, the sniffing tables.
            warm = Body(8)
            upload(client, ref, warm)
            profiler = start_profiler(pid)
            try:
                runs = [timed_upload(client, ref, pid, folder / "data") for _ in range(REPS)]
            finally:
                stop_profiler(profiler)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    best = max(runs, key=lambda r: r["mb_per_s"])
    worst_rss = max(r["rss_growth_mib"] for r in runs)
    result = {
        "benchmark": "upload",
        "size_mib": SIZE_MIB,
        "runs": runs,
        "median_mb_per_s": statistics.median(r["mb_per_s"] for r in runs),
        "median_download_mb_per_s": statistics.median(r["download_mb_per_s"] for r in runs),
        "encrypted_at_rest": True,
        "best_mb_per_s": best["mb_per_s"],
        "max_rss_growth_mib": worst_rss,
        "targets": {"mb_per_s": TARGET_MB_PER_S, "rss_growth_mib": TARGET_RSS_GROWTH_MIB},
        "machine": machine(),
    }
    result["ok"] = (
        result["median_mb_per_s"] >= TARGET_MB_PER_S
        and worst_rss < TARGET_RSS_GROWTH_MIB
        and all(r["sha256_matches"] and r["size_matches"] for r in runs)
    )
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
