"""Keeping the workers of ``serve --workers N`` evenly loaded when clients keep connections open.

The kernel spreads new connections over the workers' listeners by a hash of their addresses
(``SO_REUSEPORT``), not by load: 16 keep-alive clients land 8/8 on two workers, or 10/6, or
13/3. A worker serves one request at a time, so the clients of the crowded one wait in a line
twice as long as the others' (measured: median 184 ms against 81 ms at 11/5) while the other
core idles part of the time.

Each worker publishes how many connections it holds in memory shared by the arbiter's
workers (``ConnectionShares``, made before they are forked) as each opens and closes
(``CountedConnections``: uvicorn's set of the worker's connections). A worker holding more than its
fair share — the whole server's connections divided by the live workers, rounded up — answers
the next request with ``Connection: close``: the response is whole, and the client's next
request opens a new connection, which the kernel may give to another worker. Clients that all
keep connections open thus end up spread evenly, each shed connection costing one reconnect;
once even, a connection opened and closed for one request on top (a scrape, say) may close
the odd other one; nothing more.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Collection
from ctypes import c_long
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ConnectionShares:
    """Per worker: its pid and how many connections it holds, in shared memory.

    Made by the arbiter before it forks; each worker ``join``s (takes a free slot) when it
    starts and ``leave``s when it stops; the arbiter clears the slot of a worker that died.
    """

    def __init__(self, workers: int) -> None:
        # Room for every worker twice over: a reload starts new workers before the old stop.
        slots = 2 * workers + 2
        self._pids = multiprocessing.RawArray(c_long, slots)
        self._counts = multiprocessing.RawArray(c_long, slots)
        self._lock = multiprocessing.Lock()

    def join(self, pid: int) -> int:
        """A slot for this worker (a free one, or a dead worker's); its count starts at 0."""
        with self._lock:
            free = [i for i, owner in enumerate(self._pids) if owner == 0 or not _alive(owner)]
            if not free:
                raise RuntimeError("no free connection-share slot for a new worker")
            slot = free[0]
            self._pids[slot] = pid
            self._counts[slot] = 0
            return slot

    def leave(self, pid: int) -> None:
        with self._lock:
            for slot, owner in enumerate(self._pids):
                if owner == pid:
                    self._pids[slot] = 0
                    self._counts[slot] = 0

    def publish(self, slot: int, count: int) -> None:
        self._counts[slot] = count

    def over_share(self, slot: int, count: int) -> bool:
        """Records ``count`` as the slot's connections; whether that is more than its share."""
        self._counts[slot] = count
        total = workers = 0
        for owner, held in zip(self._pids, self._counts, strict=True):
            if owner:
                total += held
                workers += 1
        return workers > 1 and count > math.ceil(total / workers)

    def counts(self) -> dict[int, int]:
        """pid → connections, for the live slots."""
        return {owner: held for owner, held in zip(self._pids, self._counts, strict=True) if owner}


class CountedConnections(set[Any]):
    """A worker's set of open connections (uvicorn's ``server_state.connections``) that
    publishes its size to the shares whenever a connection opens or closes."""

    def __init__(self, shares: ConnectionShares, slot: int) -> None:
        super().__init__()
        self.shares = shares
        self.slot = slot
        # A connection told to close is counted until it has closed: meanwhile no other is
        # closed for the same excess (on a busy loop the next request may come first).
        self.closing = False

    def add(self, connection: Any) -> None:
        super().add(connection)
        self.shares.publish(self.slot, len(self))

    def discard(self, connection: Any) -> None:
        super().discard(connection)
        self.closing = False
        self.shares.publish(self.slot, len(self))

    def remove(self, connection: Any) -> None:
        super().remove(connection)
        self.closing = False
        self.shares.publish(self.slot, len(self))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ShedExcess:
    """ASGI middleware of a worker: ``Connection: close`` on a response while the worker holds
    more than its share of the server's connections (``connections``: uvicorn's set of this
    worker's open connections)."""

    def __init__(
        self,
        app: ASGIApp,
        shares: ConnectionShares,
        slot: int,
        connections: Collection[object],
        on_shed: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.shares = shares
        self.slot = slot
        self.connections = connections
        self.on_shed = on_shed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if (
                message["type"] == "http.response.start"
                and not getattr(self.connections, "closing", False)
                and self.shares.over_share(self.slot, len(self.connections))
            ):
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"connection" for name, _value in headers):
                    message = {**message, "headers": [*headers, (b"connection", b"close")]}
                    if isinstance(self.connections, CountedConnections):
                        self.connections.closing = True
                    if self.on_shed is not None:
                        self.on_shed()
            await send(message)

        await self.app(scope, receive, sending)
