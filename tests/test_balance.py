"""The workers of ``serve --workers N`` share out keep-alive connections evenly
(critdesk.balance): the shares in memory every worker sees, and the middleware that closes a
connection after its response while its worker holds more than its share."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from critdesk.balance import ConnectionShares, ShedExcess


@pytest.fixture
def pids() -> Iterator[list[int]]:
    """Live processes standing in for workers (a slot whose process is gone is free)."""
    sleepers = [subprocess.Popen(["sleep", "60"]) for _ in range(4)]
    yield [p.pid for p in sleepers]
    for sleeper in sleepers:
        sleeper.kill()
        sleeper.wait()


def test_a_worker_over_its_share_of_the_connections_is_told_so(pids) -> None:
    shares = ConnectionShares(workers=2)
    a, b = shares.join(pids[0]), shares.join(os.getpid())
    assert a != b
    assert shares.over_share(a, 8)  # b holds none yet
    assert not shares.over_share(b, 8)  # 16 connections, 8 each: even
    assert not shares.over_share(a, 8)
    assert shares.over_share(a, 10)  # 18, a fair share is 9
    assert not shares.over_share(b, 6)  # 16: a's 10 is still over 8, b's 6 is not
    assert shares.counts() == {pids[0]: 10, os.getpid(): 6}
    assert not shares.over_share(b, 8)
    assert not shares.over_share(a, 9)  # 17: up to 9 each


def test_a_lone_worker_never_sheds_and_a_leaving_one_no_longer_counts(pids) -> None:
    shares = ConnectionShares(workers=2)
    a = shares.join(os.getpid())
    assert not shares.over_share(a, 50)
    b = shares.join(pids[0])
    assert shares.over_share(b, 60) is True  # 110 over two: 55 each
    shares.leave(pids[0])
    assert shares.counts() == {os.getpid(): 50}
    assert not shares.over_share(a, 50)


def test_a_dead_workers_slot_is_taken_by_a_new_one(pids) -> None:
    shares = ConnectionShares(workers=1)  # room for 4
    taken = [shares.join(pid) for pid in pids]
    assert sorted(taken) == [0, 1, 2, 3]
    with pytest.raises(RuntimeError, match="no free"):
        shares.join(os.getpid())
    # The second worker dies without leaving (SIGKILL): a new worker takes its slot.
    os.kill(pids[1], 9)
    os.waitpid(pids[1], 0)
    assert shares.join(os.getpid()) == taken[1]
    assert set(shares.counts()) == {pids[0], os.getpid(), pids[2], pids[3]}


def _publish(shares: ConnectionShares, slot: int, count: int) -> None:
    shares.over_share(slot, count)


def test_the_shares_are_seen_across_forked_workers() -> None:
    shares = ConnectionShares(workers=2)
    context = multiprocessing.get_context("fork")
    worker = context.Process(target=lambda: _publish(shares, shares.join(os.getpid()), 12))
    worker.start()
    worker.join(10)
    assert worker.exitcode == 0
    assert worker.pid in shares.counts() and shares.counts()[worker.pid] == 12


class _App:
    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.headers = headers

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": b"ok"})


def _call(app: Any, scope_type: str = "http") -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(dict(message))

    asyncio.run(app({"type": scope_type}, receive, send))
    return sent


@pytest.mark.parametrize(
    ("mine", "theirs", "closed"), [(10, 6, True), (8, 8, False), (6, 10, False)]
)
def test_the_middleware_closes_a_connection_only_over_the_share(pids, mine, theirs, closed) -> None:
    shares = ConnectionShares(workers=2)
    other = shares.join(pids[0])
    shares.over_share(other, theirs)
    shed: list[int] = []
    app = ShedExcess(
        _App([(b"content-type", b"text/plain")]),
        shares,
        shares.join(os.getpid()),
        connections=[object()] * mine,
        on_shed=lambda: shed.append(1),
    )
    start, body = _call(app)
    assert ((b"connection", b"close") in start["headers"]) is closed
    assert (b"content-type", b"text/plain") in start["headers"]
    assert body["body"] == b"ok"  # the response itself is whole
    assert shed == ([1] if closed else [])


def test_a_response_that_sets_its_own_connection_header_keeps_it(pids) -> None:
    shares = ConnectionShares(workers=2)
    shares.over_share(shares.join(pids[0]), 0)
    app = ShedExcess(
        _App([(b"Connection", b"keep-alive")]), shares, shares.join(os.getpid()), [object()] * 9
    )
    start, _body = _call(app)
    assert start["headers"] == [(b"Connection", b"keep-alive")]


def test_lifespan_and_websocket_scopes_pass_through(pids) -> None:
    shares = ConnectionShares(workers=2)
    shares.over_share(shares.join(pids[0]), 0)
    app = ShedExcess(_App([]), shares, shares.join(os.getpid()), [object()] * 9)
    start, _body = _call(app, "websocket")
    assert start["headers"] == []


def test_a_workers_count_is_published_as_connections_open_and_close(pids) -> None:
    from critdesk.balance import CountedConnections

    shares = ConnectionShares(workers=2)
    connections = CountedConnections(shares, shares.join(pids[0]))
    first, second = object(), object()
    connections.add(first)
    connections.add(second)
    assert shares.counts() == {pids[0]: 2}
    connections.discard(first)
    connections.discard(first)  # closed twice (uvicorn may): counted once
    assert shares.counts() == {pids[0]: 1}
    connections.remove(second)
    assert shares.counts() == {pids[0]: 0} and len(connections) == 0


def test_one_connection_at_a_time_is_closed_for_an_excess(pids) -> None:
    """On a busy loop the next request can come before the closed connection is gone: it is
    not closed too for the same excess."""
    from critdesk.balance import CountedConnections

    shares = ConnectionShares(workers=2)
    shares.over_share(shares.join(pids[0]), 6)
    connections = CountedConnections(shares, shares.join(os.getpid()))
    held = [object() for _ in range(9)]
    for connection in held:
        connections.add(connection)
    app = ShedExcess(_App([]), shares, connections.slot, connections)
    assert (b"connection", b"close") in _call(app)[0]["headers"]  # 9 against 6
    assert _call(app)[0]["headers"] == []  # the first one is still closing
    connections.discard(held[0])  # it has closed: 8 against 6
    assert (b"connection", b"close") in _call(app)[0]["headers"]
