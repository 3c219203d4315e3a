"""Local receivers for outbound delivery: an SMTP server (aiosmtpd) and a webhook endpoint
that checks signatures, both on 127.0.0.1 and a free port."""

from __future__ import annotations

import asyncio
import email
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from critdesk.adapters import webhook


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    envelope_to: list[str]
    message: EmailMessage


class SmtpSink:
    """Receives mail like an MTA. ``delay`` holds each message *after* it is recorded and
    before the server says 250: a client killed meanwhile has delivered without knowing."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.received.append(Received(list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 OK"

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [r.message for r in self.received]

    def message_ids(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.messages())

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [r.message for r in self.received if address in r.envelope_to]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages()) < count:
            time.sleep(0.02)
        return self.messages()


@dataclass
class Hook:
    headers: dict[str, str]
    body: bytes
    verified: bool

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """An HTTP endpoint that verifies each delivery's signature with ``secret`` and answers
    500 to the first ``fail_first`` requests (or to all with ``always_fail``)."""

    secret: str = ""
    fail_first: int = 0
    always_fail: bool = False
    hooks: list[Hook] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/critdesk"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = webhook.verify(
                    receiver.secret,
                    body=body,
                    timestamp=headers.get("x-critdesk-timestamp", ""),
                    signature=headers.get("x-critdesk-signature", ""),
                    now=time.time(),
                )
                receiver.hooks.append(Hook(headers, body, verified))
                failing = receiver.always_fail or len(receiver.hooks) <= receiver.fail_first
                status = 401 if not verified else 500 if failing else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
