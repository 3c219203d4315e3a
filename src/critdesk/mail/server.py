"""The SMTP (or LMTP) listener an MTA hands inbound mail to (``critdesk mail serve``).

Each message is processed in a unit of work of its own, on a worker thread, before the
answer to DATA is sent: ``250`` once its outcome is committed, ``451`` (the MTA keeps the
message and retries later) when processing failed or a rate limit was reached, ``552`` from
aiosmtpd itself for a message over the size limit. A message is therefore never lost between
the MTA and the desk, and never half-processed.

The MTA on the same host hands over the desk's address, e.g. with Postfix::

    # /etc/postfix/transport  (transport_maps = hash:/etc/postfix/transport)
    desk@support.example.com   lmtp:inet:127.0.0.1:2525      # critdesk mail serve --lmtp

and checks SPF/DKIM/DMARC on the way in (its ``Authentication-Results`` header is read:
mail whose DMARC check failed is dropped).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from critdesk.adapters.storage import Storage
from critdesk.config import Settings
from critdesk.db import Database
from critdesk.errors import RateLimited
from critdesk.mail import service

log = logging.getLogger(__name__)

TEMPORARY_FAILURE = "451 4.3.0 The message could not be processed now; please retry later"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MailHandler:
    """aiosmtpd's handler: accepts every recipient (the MTA decides what reaches the desk)
    and processes each message once its data is in."""

    def __init__(
        self,
        *,
        database: Database,
        storage: Storage,
        settings: Settings,
        clock: Callable[[], datetime],
        lmtp: bool = False,
    ) -> None:
        self.database = database
        self.storage = storage
        self.settings = settings
        self.clock = clock
        self.lmtp = lmtp

    def process(self, delivery: service.Delivery) -> service.Outcome:
        with self.database.session() as db:
            return service.receive(
                db=db,
                storage=self.storage,
                settings=self.settings,
                delivery=delivery,
                now=self.clock(),
            )

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        delivery = service.Delivery(
            raw=raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogateescape"),
            envelope_sender=envelope.mail_from,
            recipients=tuple(envelope.rcpt_tos),
        )
        try:
            outcome = await asyncio.get_running_loop().run_in_executor(None, self.process, delivery)
        except RateLimited as limited:
            status = f"451 4.7.1 {limited.message}"
        except Exception:
            log.exception("inbound mail from %s could not be processed", envelope.mail_from)
            status = TEMPORARY_FAILURE
        else:
            status = f"250 2.0.0 OK: {outcome.status}"
        # LMTP answers DATA once per recipient.
        return "\r\n".join([status] * max(1, len(envelope.rcpt_tos))) if self.lmtp else status


class MailController(Controller):
    """aiosmtpd's threaded controller, speaking LMTP when asked to."""

    def __init__(self, handler: MailHandler, *, host: str, port: int, max_bytes: int) -> None:
        super().__init__(
            handler,
            hostname=host,
            port=port,
            data_size_limit=max_bytes,
            enable_SMTPUTF8=True,
            ident="critdesk inbound mail",
        )
        self.lmtp = handler.lmtp

    def factory(self) -> Any:
        protocol = LMTP if self.lmtp else SMTP
        return protocol(self.handler, **self.SMTP_kwargs)


def make_controller(
    *,
    database: Database,
    storage: Storage,
    settings: Settings,
    clock: Callable[[], datetime],
    host: str = "127.0.0.1",
    port: int = 2525,
    lmtp: bool = False,
) -> MailController:
    handler = MailHandler(
        database=database, storage=storage, settings=settings, clock=clock, lmtp=lmtp
    )
    return MailController(handler, host=host, port=port, max_bytes=settings.mail_max_message_bytes)
