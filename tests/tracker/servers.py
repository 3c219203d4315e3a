"""A threaded HTTP server on 127.0.0.1 for fake trackers (fake_jira.py, fake_github.py): it
records and counts requests, checks authentication, keeps issues in memory, and can be
scripted to fail (an error status, a dropped connection, a slow answer)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Reply = tuple[int, Any, dict[str, str]]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Step:
    """What to do with the next request matching ``method`` and ``path`` (a prefix)."""

    method: str
    path: str
    status: int | None = None  # answer this instead of handling the request
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # handle the request, then close the connection without answering
    delay: float = 0.0  # handle the request, then wait this long before answering


class FakeServer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self  # type: ignore[attr-defined]
        self.httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.reset()

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self) -> None:
        with self.lock:
            self.requests: list[Request] = []
            self.steps: list[Step] = []
            self.rejections: list[str] = []
            self.issues: dict[str, dict[str, Any]] = {}

    def then(self, method: str, path: str, **step: Any) -> None:
        with self.lock:
            self.steps.append(Step(method, path, **step))

    def count(self, method: str, path: str = "") -> int:
        return sum(1 for r in self.requests if r.method == method and r.path.startswith(path))

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]

    def handle(self, request: Request) -> tuple[Reply, Step | None]:
        with self.lock:
            self.requests.append(request)
            step = next(
                (
                    s
                    for s in self.steps
                    if s.method == request.method and request.path.startswith(s.path)
                ),
                None,
            )
            if step is not None:
                self.steps.remove(step)
            if step is not None and step.status is not None:
                return (step.status, step.body, step.headers), step
            if not self.authorised(request):
                return self.unauthorised(), step
            return self.route(request), step

    def refuse(self, status: int, body: Any, problem: str) -> Reply:
        self.rejections.append(problem)
        return status, body, {}

    # Each fake tracker fills these in.
    def authorised(self, request: Request) -> bool:
        raise NotImplementedError

    def unauthorised(self) -> Reply:
        raise NotImplementedError

    def route(self, request: Request) -> Reply:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        fake: FakeServer = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(400, {"message": "Problems parsing JSON"}, {})
            return
        request = Request(
            self.command,
            url.path,
            {k: v[-1] for k, v in parse_qs(url.query).items()},
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        (status, payload, headers), step = fake.handle(request)
        if step is not None and step.drop:
            self.close_connection = True
            return
        if step is not None and step.delay:
            time.sleep(step.delay)
        self._send(status, payload, headers)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass
