"""A real inbound mail listener on a free loopback port, and an SMTP client to talk to it."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import pytest
from sqlalchemy import select

from critdesk.adapters.storage import LocalStorage
from critdesk.mail.models import InboundMessage
from critdesk.mail.server import MailController, make_controller
from critdesk.notification.models import Notification

DESK = "desk@critdesk.localhost"


MAX_BYTES = 200_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Reply:
    code: int
    text: str


@dataclass
class Listener:
    controller: MailController

    def send(
        self,
        message: EmailMessage | bytes,
        *,
        envelope_from: str | None = None,
        to: tuple[str, ...] = (DESK,),
        lmtp: bool = False,
    ) -> Reply:
        """One SMTP (or LMTP) conversation; the answer to DATA."""
        raw = message.as_bytes(policy=SMTP) if isinstance(message, EmailMessage) else message
        if envelope_from is None:
            envelope_from = str(message["From"]) if isinstance(message, EmailMessage) else ""
        client: smtplib.SMTP = smtplib.LMTP() if lmtp else smtplib.SMTP()
        client.connect(self.controller.hostname, self.controller.port)
        try:
            client.ehlo_or_helo_if_needed() if not lmtp else client.ehlo()
            code, text = client.mail(envelope_from)
            assert code == 250, text
            for recipient in to:
                code, text = client.rcpt(recipient)
                assert code == 250, text
            code, text = client.data(raw)
            return Reply(code, text.decode())
        finally:
            client.close()


@pytest.fixture
def listen(
    database: Any, settings: Any, clock: Any, demo: None
) -> Iterator[Callable[..., Listener]]:
    started: list[MailController] = []

    def start(lmtp: bool = False, **overrides: Any) -> Listener:
        config = settings.model_copy(update={"mail_max_message_bytes": MAX_BYTES, **overrides})
        controller = make_controller(
            database=database,
            storage=LocalStorage(settings.data_dir / "attachments"),
            settings=config,
            clock=clock,
            host="127.0.0.1",
            port=free_port(),
            lmtp=lmtp,
        )
        controller.start()
        started.append(controller)
        return Listener(controller)

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def smtp(listen: Callable[..., Listener]) -> Listener:
    return listen()


def mail(
    sender: str,
    subject: str,
    body: str = "",
    *,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = DESK
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for name, data, media_type in attachments:
        maintype, subtype = media_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def inbound(database: Any) -> list[tuple[str | None, str, str | None]]:
    """(sender, outcome, detail) of every message received, oldest first."""
    with database.session(read_only=True) as db:
        rows = db.execute(
            select(InboundMessage.sender, InboundMessage.outcome, InboundMessage.detail).order_by(
                InboundMessage.id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def refusals(database: Any) -> list[dict[str, Any]]:
    """The polite refusals queued in the outbox: recipient, subject, text, headers."""
    with database.session(read_only=True) as db:
        rows = db.scalars(
            select(Notification)
            .where(Notification.key.like("mail-refusal:%"))
            .order_by(Notification.id)
        )
        return [{"to": n.recipient, **(n.payload or {})} for n in rows]
