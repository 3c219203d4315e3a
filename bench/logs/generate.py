"""A Tomcat-style application log of any size, written as it is generated (never in memory).

What a production Java application server writes during an incident: log4j lines from many
threads and loggers (mostly INFO, some WARN), Tomcat's own lines, and ERROR events with stack
traces of 20–60 frames — framework frames around the application's, ``Caused by:`` chains and
``... N more`` — a few exception kinds recurring with varying line numbers and messages.
Seeded, so that every run writes the same file.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

START = datetime(2026, 11, 25, 6, 0, 0)

INFO = (
    "c.v.runtime.Http - GET /api/orders/{n} answered 200 in {ms} ms",
    "c.v.runtime.Http - POST /api/checkout answered 200 in {ms} ms",
    "c.v.runtime.Session - Session {hex} created for user {user}",
    "c.v.runtime.Cache - Entity cache hit ratio {pct}% ({n} entries)",
    "c.v.runtime.Scheduler - Job 'nightly-sync-{k}' finished in {ms} ms",
    "c.v.runtime.Pool - Pool stats: active={k}, idle={j}, waiting=0",
    "o.h.e.t.i.TransactionImpl - Committed transaction {n}",
    "c.v.runtime.Workspace - Published workspace {uuid} (revision {k})",
)
WARN = (
    "c.v.runtime.Pool - Connection pool exhausted after {ms} ms (active=50, idle=0)",
    "c.v.runtime.Http - Slow request GET /api/orders/{n} took {ms} ms",
    "c.v.runtime.Gateway - Retrying call to https://gw.example.com/v2/sync (attempt {k} of 5)",
)
USERS = ("alice@northwind.example", "bob@northwind.example", "svc-sync", "carol@contoso.example")
FRAMEWORK = (
    "org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)",
    "org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java:209)",
    "org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:153)",
    "org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:167)",
    "org.apache.catalina.core.StandardContextValve.invoke(StandardContextValve.java:90)",
    "org.apache.catalina.connector.CoyoteAdapter.service(CoyoteAdapter.java:360)",
    "org.apache.coyote.http11.Http11Processor.service(Http11Processor.java:399)",
    "org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun(NioEndpoint.java:1789)",
    "java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)",
    "java.base/java.lang.Thread.run(Thread.java:840)",
)
DEFECTS = (
    (
        "java.lang.IllegalStateException: Entity '{entity}' has no primary key",
        (
            "com.acme.platform.entity.EntityMapper.keyOf(EntityMapper.java:{line})",
            "com.acme.platform.entity.EntityMapper$1.apply(EntityMapper.java:{line})",
            "com.acme.platform.workspace.WorkspaceService.lambda$publish$3(WorkspaceService.java:{line})",
        ),
        "java.sql.SQLSyntaxErrorException: ORA-00942: table or view does not exist",
        (
            "oracle.jdbc.driver.T4CTTIoer11.processError(T4CTTIoer11.java:494)",
            "com.acme.platform.db.Gateway.query(Gateway.java:{line})",
            "com.acme.platform.db.Gateway.load(Gateway.java:{line})",
        ),
    ),
    (
        'java.lang.NullPointerException: Cannot invoke "com.acme.Order.total()" because'
        ' "order" is null',
        (
            "com.acme.platform.checkout.Totals.sum(Totals.java:{line})",
            "com.acme.platform.checkout.CheckoutController.submit(CheckoutController.java:{line})",
        ),
        None,
        (),
    ),
    (
        "com.acme.platform.gateway.SyncException: sync of {n} entities failed",
        (
            "com.acme.platform.gateway.SyncClient.push(SyncClient.java:{line})",
            "com.acme.platform.gateway.SyncJob.run(SyncJob.java:{line})",
        ),
        "java.net.SocketTimeoutException: Read timed out",
        (
            "java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)",
            "com.acme.platform.gateway.HttpTransport.read(HttpTransport.java:{line})",
        ),
    ),
)


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        n=rng.randrange(1, 10**6),
        ms=rng.randrange(1, 40000),
        hex=f"{rng.getrandbits(64):016x}",
        user=rng.choice(USERS),
        pct=rng.randrange(50, 100),
        k=rng.randrange(1, 9),
        j=rng.randrange(0, 20),
        uuid=f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-"
        f"a{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}",
        entity=rng.choice(("Order", "Invoice", "Customer", "Shipment")),
        line=rng.randrange(20, 400),
    )


def _frame(frame: str) -> str:
    # A deployed build's code does not move: each frame keeps its line number.
    return frame.replace("{line}", str(20 + sum(map(ord, frame)) % 380))


def _trace(rng: random.Random) -> list[str]:
    head, frames, cause, cause_frames = rng.choice(DEFECTS)
    lines = [_fill(head, rng)]
    lines += [f"\tat {_frame(f)}" for f in frames]
    # The request went through a varying depth of filters and valves.
    lines += [f"\tat {f}" for f in FRAMEWORK * rng.randrange(2, 6)]
    if cause:
        lines.append(f"Caused by: {_fill(cause, rng)}")
        lines += [f"\tat {_frame(f)}" for f in cause_frames]
        lines.append(f"\t... {rng.randrange(10, 60)} more")
    return lines


def write(path: Path, size: int, seed: int = 7) -> int:
    """Writes about ``size`` bytes of log to ``path``; returns the lines written."""
    rng = random.Random(seed)
    at = START
    written = lines = 0
    with path.open("w", encoding="utf-8", buffering=1024**2) as out:
        while written < size:
            block: list[str] = []
            for _ in range(2000):
                at += timedelta(milliseconds=rng.randrange(1, 40))
                stamp = at.strftime("%Y-%m-%d %H:%M:%S,") + f"{at.microsecond // 1000:03d}"
                thread = f"http-nio-8080-exec-{rng.randrange(1, 200)}"
                roll = rng.random()
                if roll < 0.03:
                    block.append(f"{stamp} ERROR [{thread}] c.v.runtime.Request - Request failed")
                    block.extend(_trace(rng))
                elif roll < 0.15:
                    block.append(f"{stamp} WARN  [{thread}] {_fill(rng.choice(WARN), rng)}")
                else:
                    block.append(f"{stamp} INFO  [{thread}] {_fill(rng.choice(INFO), rng)}")
            text = "\n".join(block) + "\n"
            out.write(text)
            written += len(text)
            lines += text.count("\n")
    return lines


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1])
    print(write(target, int(float(sys.argv[2]) * 1024**2)))
