"""The outermost middleware: a request id for every request, one access log line, and the
request's count and latency under its route template.

The id is the caller's ``X-Request-ID`` when sane (a proxy's, a client's retry), or a new
one; it is bound for the whole request (``observability.context``), echoed in the response
header, and written with any outbox row or queued analysis the request causes.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from critdesk.errors import error_body
from critdesk.observability.context import (
    REQUEST_ID_HEADER,
    accept_request_id,
    reset_request_id,
    set_request_id,
)
from critdesk.observability.metrics import UNMATCHED, HttpMetrics

access_log = logging.getLogger("critdesk.access")
_HEADER = REQUEST_ID_HEADER.lower().encode()
# Probes and scrapes arrive every few seconds: their lines are only wanted when debugging.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class RouteTemplates:
    """The path template of the route that served a request (``/api/v1/cases/{ref}``), never
    the raw path: metrics stay a bounded set of series whatever paths clients send."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._paths: dict[int, str] | None = None

    def of(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        if isinstance(route, Mount):
            return route.path + "/{path}"
        if self._paths is None:
            # Built at the first request, when every router has been included.
            self._paths = {}
            for context in iter_route_contexts(self.app.routes):
                self._paths.setdefault(id(context.original_route), context.path or "")
        return self._paths.get(id(route)) or getattr(route, "path", None) or UNMATCHED


class RequestObserver:
    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, fastapi_app: Any) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = RouteTemplates(fastapi_app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        sent = dict(scope.get("headers", ())).get(_HEADER)
        request_id = accept_request_id(sent.decode("latin-1") if sent is not None else None)
        token = set_request_id(request_id)
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != _HEADER]
                message["headers"] = [*headers, (_HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Left bound: the server logs the traceback after us, in this same task, and its
            # line then carries the request id too.
            if not response_started:
                await _internal_error(send_with_id, request_id)
            self._done(scope, status, started, request_id)
            raise
        self._done(scope, status, started, request_id)
        reset_request_id(token)

    def _done(self, scope: Scope, status: int, started: float, request_id: str) -> None:
        seconds = time.perf_counter() - started
        route = self.templates.of(scope)
        method = scope["method"]
        self.metrics.observe(method, route, status, seconds)
        path = scope["path"]
        level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
        if status >= 500:
            level = logging.ERROR
        if not access_log.isEnabledFor(level):
            return
        client = scope.get("client")
        access_log.log(
            level,
            "%s %s %d %.1f ms",
            method,
            path,
            status,
            seconds * 1000,
            extra={
                "method": method,
                # The path only: query strings may carry what does not belong in logs.
                "path": path,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "client": client[0] if client else None,
            },
        )


async def _internal_error(send: Send, request_id: str) -> None:
    body = error_body(
        "internal_error",
        f"something went wrong on our side; quote request id {request_id} when reporting it",
    )
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
