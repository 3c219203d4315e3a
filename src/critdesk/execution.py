"""Where a server process runs the synchronous request handlers: on its event loop's thread
(``inline``, the default) or on a pool of threads (``threads``, FastAPI's own way).

critdesk's routes and dependencies are plain functions over a synchronous SQLAlchemy session,
and once the database has answered they are CPU-bound Python. FastAPI runs each plain function
on a worker thread, so one request hops between the event loop and the pool three or four times
(caller, route, commit), and every hop is a hand-over of the interpreter lock between threads.
Measured on the two-core bench machine, case creation through ``serve --workers 2`` costs
5.1-7.0 ms of server CPU per request with the pool and 3.6-4.3 ms inline, and inline serves
about half as many again per second (``bench/RESULTS.md``).

Inline, a worker process handles one request at a time, as a synchronous (prefork) worker
does: ``--workers N`` handles N at once, and a slow request holds up the others of its worker
only. Code that waits for something outside the database, or works for long (uploads being
received and stored, files hashed), still runs on threads: ``offload`` always does.

One rule keeps inline safe on SQLite, where a process's writers queue for the database's write
lock (``db.WriterQueue``): no coroutine may wait for anything while its unit of work holds that
lock, or the next request of the same loop would queue behind it and stop the loop. The
synchronous steps of a coroutine route therefore go through ``run_sync`` (inline when the
handlers are), never through a thread hop of their own between a write and its commit.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Literal, ParamSpec, TypeVar

import fastapi.dependencies.utils as fastapi_dependencies
import fastapi.routing as fastapi_routing
from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
T = TypeVar("T")

Mode = Literal["inline", "threads"]

_mode: Mode = "threads"


async def run_inline(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return func(*args, **kwargs)


async def run_sync(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """A synchronous step of a request: inline or on a thread, as the handlers run."""
    if _mode == "inline":
        return func(*args, **kwargs)
    return await run_in_threadpool(func, *args, **kwargs)


async def offload(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Work that waits on something other than the database, or takes long: on a thread always."""
    return await run_in_threadpool(func, *args, **kwargs)


def use(mode: Mode) -> None:
    """Runs this process's synchronous routes and dependencies ``inline`` or on ``threads``.

    FastAPI has no setting for this: it calls ``run_in_threadpool`` from two modules, and those
    two names are what changes (the versions are pinned in the lock file; a test holds each
    mode to the thread it runs a route and a dependency on)."""
    global _mode
    runner = run_inline if mode == "inline" else run_in_threadpool
    fastapi_routing.run_in_threadpool = runner  # type: ignore[attr-defined]
    fastapi_dependencies.run_in_threadpool = runner  # type: ignore[attr-defined]
    _mode = mode


def mode() -> Mode:
    return _mode


_heap_settled = False


def settle_heap() -> bool:
    """Once per process, when its app has started: the objects start-up built and that live as
    long as the process (modules, routes, ORM mappers, templates, settings) are taken out of the
    garbage collector's sight (``gc.freeze``), after one last collection of what is garbage.

    Unfrozen, every full collection walks all of them (about 260,000 objects) to find nothing:
    112-131 ms in which a server process answers no one, a few times a minute under load, which
    was the 16-client tail of case creation (bench/RESULTS.md, session 7). Objects made later
    are collected as before. Returns whether this call did it (False on any later call: a test
    process builds many apps, and only the first start-up's objects are frozen)."""
    global _heap_settled
    if _heap_settled:
        return False
    gc.collect()
    gc.freeze()
    _heap_settled = True
    return True
