"""Which request (or job run) the current code works for, carried in context variables.

A request's id is bound by ``middleware.RequestObserver`` for the whole request; FastAPI runs
sync routes on pool threads with a copy of the context, so code deep in a service sees it
too. Work that a request leaves behind for later (an outbox row, a queued log analysis)
stores the id with its row; the job that picks the row up binds it again, so the request's
log lines and the job's share one id. A job with no originating request gets an id of its own.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import ParamSpec, TypeVar

REQUEST_ID_HEADER = "X-Request-ID"
# What a caller's or proxy's id may look like to be kept: short, printable, no spaces; anything
# else (a log-injection attempt, a megabyte) is replaced by an id of our own.
_SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,64}")
MAX_CHARS = 64

_request_id: ContextVar[str | None] = ContextVar("critdesk_request_id", default=None)
_job: ContextVar[str | None] = ContextVar("critdesk_job", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(sent: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is sane, otherwise a fresh one."""
    if sent is not None and _SANE.fullmatch(sent):
        return sent
    return new_request_id()


def current_request_id() -> str | None:
    return _request_id.get()


def current_job() -> str | None:
    return _job.get()


def set_request_id(request_id: str) -> Token[str | None]:
    """Binds the id until ``reset_request_id`` (the middleware, around a whole request)."""
    return _request_id.set(request_id[:MAX_CHARS])


def reset_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


@contextmanager
def bound_request_id(request_id: str | None) -> Iterator[str | None]:
    """Binds ``request_id`` for the block (``None`` leaves the current one in place)."""
    if request_id is None:
        yield _request_id.get()
        return
    token = _request_id.set(request_id[:MAX_CHARS])
    try:
        yield request_id
    finally:
        _request_id.reset(token)


@contextmanager
def job_scope(name: str, request_id: str | None = None) -> Iterator[str]:
    """One run of a background job: its name, and the id of the request that caused the work
    (when the row kept one) or else a fresh ``job-…`` id, for every log line inside."""
    bound = request_id or _request_id.get() or f"job-{uuid.uuid4().hex[:16]}"
    job_token = _job.set(name)
    try:
        with bound_request_id(bound):
            yield bound
    finally:
        _job.reset(job_token)


P = ParamSpec("P")
R = TypeVar("R")


def in_job(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Runs the decorated job function inside ``job_scope(name)``."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with job_scope(name):
                return function(*args, **kwargs)

        return run

    return decorate
