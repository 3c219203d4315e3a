"""What encryption at rest costs per byte: the sealed-file format alone, in one process.

Seals ``BENCH_SEAL_MIB`` MiB (256 by default) written in 1 MiB pieces, as the upload path
writes them, into a sink that only counts (the disk's share is the upload benchmark's); reads
it all back through ``SealedReader`` in 1 MiB reads, as a download does; and reads random
4 KiB ranges, as a zip listing does. Wall and CPU time of this process are both reported: on
a busy machine the CPU time is the figure that says what the format costs. Prints JSON.
"""

from __future__ import annotations

import io
import json
import os
import random
import time
from collections.abc import Callable
from typing import Any

from critdesk.privacy.encryption import SealedWriter, open_sealed, read_header

MIB = 1024**2
SIZE_MIB = int(os.environ.get("BENCH_SEAL_MIB", "256"))
REPS = int(os.environ.get("BENCH_SEAL_REPS", "3"))
KEY = os.urandom(32)


class Counter:
    """A sink that only counts: the sealing is timed, not a growing buffer's copies."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, data: bytes | memoryview) -> None:
        self.bytes += len(data)

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        pass


class Buffer:
    def __init__(self) -> None:
        self.stream = io.BytesIO()

    def write(self, data: bytes | memoryview) -> None:
        self.stream.write(data)

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        pass


def timed(work: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def seal_into(sink: Counter | Buffer, block: bytes) -> None:
    writer = SealedWriter(sink, key_id="bench", master_key=KEY)
    for _ in range(SIZE_MIB):
        writer.write(memoryview(block))
    writer.commit()


def one_run(block: bytes) -> dict[str, Any]:
    counter = Counter()
    seal_wall, seal_cpu = timed(lambda: seal_into(counter, block))
    buffer = Buffer()
    seal_into(buffer, block)  # the file to read back, untimed
    sealed = buffer.stream.getvalue()
    header = read_header(io.BytesIO(sealed))
    assert header is not None

    def read_all() -> None:
        with open_sealed(io.BytesIO(sealed), header, KEY) as reader:
            while reader.read(MIB):
                pass

    read_wall, read_cpu = timed(read_all)
    reader = open_sealed(io.BytesIO(sealed), header, KEY)
    offsets = [random.randrange(reader.size - 4096) for _ in range(2000)]

    def ranges() -> None:
        for offset in offsets:
            reader.seek(offset)
            reader.read(4096)

    range_wall, _ = timed(ranges)
    size = SIZE_MIB * MIB
    return {
        "seal_mb_per_s_wall": round(size / seal_wall / 1e6, 1),
        "seal_cpu_s_per_gib": round(seal_cpu * 1024 / SIZE_MIB, 3),
        "read_mb_per_s_wall": round(size / read_wall / 1e6, 1),
        "read_cpu_s_per_gib": round(read_cpu * 1024 / SIZE_MIB, 3),
        "range_read_4k_us": round(range_wall / len(offsets) * 1e6, 1),
        "overhead_bytes": counter.bytes - size,
    }


def main() -> None:
    block = os.urandom(MIB)
    runs = [one_run(block) for _ in range(REPS)]
    print(json.dumps({"benchmark": "seal", "size_mib": SIZE_MIB, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
