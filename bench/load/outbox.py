"""Notifications end to end: a local SMTP server (aiosmtpd, its own process, 127.0.0.1) that
writes down every message it accepts, and the check that each e-mail row of the outbox — one
per (event, recipient, channel) — reached it exactly once, by Message-ID (the id a receiver
deduplicates by; a resend after a crash carries the same one)."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select

from bench.load.topology import free_port
from critdesk.case.models import format_ref
from critdesk.config import Settings
from critdesk.notification import rules
from critdesk.notification.models import Notification


def _serve(port: int, journal: str, ready: Any) -> None:
    import asyncio
    import email
    from email import policy

    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self) -> None:
            self.out = Path(journal).open("a", buffering=1)  # noqa: SIM115 (lives with the process)

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            parsed = email.message_from_bytes(envelope.content, policy=policy.default)
            rcpts = ",".join(envelope.rcpt_tos)
            self.out.write(f"{parsed['Message-ID']}\t{rcpts}\t{parsed['X-Critdesk-Event']}\n")
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(24 * 3600))
    finally:
        controller.stop()


class SmtpSinkProcess:
    """An SMTP server on 127.0.0.1 in a child process; ``received()`` counts by Message-ID."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.journal = folder / "smtp-received.tsv"
        self.journal.touch()
        ready = multiprocessing.get_context("spawn").Event()
        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(self.port, str(self.journal), ready), daemon=True
        )
        self.process.start()
        if not ready.wait(60):
            raise RuntimeError("the SMTP sink did not start")

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def received(self) -> Counter[str]:
        lines = self.journal.read_text().splitlines()
        return Counter(line.split("\t", 1)[0] for line in lines if line)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


def mail_domain() -> str:
    default = Settings.model_fields["mail_from"].default
    return Settings.model_construct(mail_from=default).mail_domain


def outbox_states(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(
                conn.execute(
                    select(Notification.state, func.count())
                    .where(Notification.channel == "email")
                    .group_by(Notification.state)
                ).all()
            )
    finally:
        engine.dispose()


def wait_drained(url: str, timeout: float) -> tuple[dict[str, int], float]:
    """Until no e-mail row waits to be sent (or ``timeout``); the states and seconds waited."""
    started = time.monotonic()
    while True:
        states = outbox_states(url)
        if set(states) <= {"sent", "dead"} or time.monotonic() - started > timeout:
            return states, round(time.monotonic() - started, 1)
        time.sleep(1.0)


def expected_message_ids(url: str) -> dict[str, dict[str, Any]]:
    """Message-ID of every e-mail row -> the row's key, kind, state and attempts."""
    domain = mail_domain()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    Notification.key,
                    Notification.kind,
                    Notification.case_id,
                    Notification.payload,
                    Notification.state,
                    Notification.attempts,
                ).where(Notification.channel == "email")
            ).all()
    finally:
        engine.dispose()
    expected = {}
    for row in rows:
        own = ((row.payload or {}).get("headers") or {}).get("Message-ID")
        ref = format_ref(row.case_id) if row.case_id is not None and not own else None
        message_id = own or rules.message_id(row.key, domain, ref)
        expected[message_id] = {
            "key": row.key,
            "kind": row.kind,
            "state": row.state,
            "attempts": row.attempts,
        }
    return expected


def delivery_check(url: str, received: Counter[str]) -> dict[str, Any]:
    """Each e-mail row once at the server: none lost, none unknown; repeats of one Message-ID
    (a resend after a crash, for the receiver to drop) listed with their rows' attempts."""
    expected = expected_message_ids(url)
    lost = sorted(m for m in expected if m not in received)
    unknown = sorted(m for m in received if m not in expected)
    repeated = {m: n for m, n in received.items() if n > 1 and m in expected}
    return {
        "email_rows": len(expected),
        "kinds": dict(Counter(e["kind"] for e in expected.values())),
        "received_messages": sum(received.values()),
        "lost": lost[:50],
        "lost_count": len(lost),
        "unknown": unknown[:50],
        "repeated": {m: {"times": n, **expected[m]} for m, n in list(repeated.items())[:50]},
        "repeated_count": len(repeated),
    }
