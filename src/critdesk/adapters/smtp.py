"""Outbound e-mail: a small interface, an smtplib implementation configured by
``CRITDESK_SMTP_URL``, a console one for development and a recording fake for tests.

``CRITDESK_SMTP_URL`` forms: ``smtp://host:25`` (plain), ``smtp://user:pass@host:587?starttls=1``
or ``smtp+starttls://user:pass@host:587`` (STARTTLS), ``smtps://user:pass@host:465`` (TLS from
the start), ``console`` (print every message; the default when unset).
"""

from __future__ import annotations

import contextlib
import email
import logging
import smtplib
import ssl
import sys
import threading
from email import policy
from email.message import EmailMessage, Message
from typing import Protocol, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)


class MailError(Exception):
    """A send that failed; ``permanent`` when retrying cannot help (the server said 5xx)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    def send(self, message: Message) -> None:
        """Hands one message to the mail system, or raises MailError."""

    def close(self) -> None: ...


class SmtpMailer:
    """Keeps SMTP connections open between messages (delivery sends batches, from several
    threads): each send borrows an idle connection or opens one, and gives it back after a
    success; a connection that failed is closed, never reused."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        mode: str = "plain",
        timeout: float = 30.0,
    ) -> None:
        if mode not in ("plain", "starttls", "tls"):
            raise ValueError(f"unknown SMTP mode {mode!r}")
        self.host, self.port, self.mode, self.timeout = host, port, mode, timeout
        self.username, self.password = username, password
        self._idle: list[smtplib.SMTP] = []
        self._lock = threading.Lock()

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.mode == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.mode == "starttls":
                client.starttls(context=context)
        if self.username:
            client.login(self.username, self.password or "")
        return client

    def _borrow(self) -> tuple[smtplib.SMTP, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._connect(), False

    def _send_on(self, client: smtplib.SMTP, message: Message) -> None:
        try:
            client.send_message(message)
        except BaseException:
            _close(client)
            raise
        with self._lock:
            self._idle.append(client)

    def send(self, message: Message) -> None:
        try:
            client, reused = self._borrow()
            try:
                self._send_on(client, message)
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # An idle connection the server had closed: one fresh try.
                self._send_on(self._connect(), message)
        except smtplib.SMTPRecipientsRefused as refused:
            codes = [code for code, _ in refused.recipients.values()]
            raise MailError(
                f"recipients refused: {refused.recipients}", permanent=min(codes) >= 500
            ) from refused
        except smtplib.SMTPResponseException as error:
            raise MailError(
                f"SMTP {error.smtp_code}: {error.smtp_error!r}", permanent=error.smtp_code >= 500
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(f"SMTP failed: {error!r}") from error

    def close(self) -> None:
        with self._lock:
            clients, self._idle = self._idle, []
        for client in clients:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                _close(client)


def _close(client: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        client.close()


class ConsoleMailer:
    """Development: prints every message instead of sending it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        with self._lock:
            print(f"--- e-mail to {message['To']} ---", file=self.stream)
            print(message.as_string(), file=self.stream)
            self.stream.flush()

    def close(self) -> None:
        pass


class RecordingMailer:
    """Tests: keeps every message as a receiver would parse it; ``fail`` makes the next sends
    raise the given errors."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail: list[MailError] = []
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        with self._lock:
            if self.fail:
                raise self.fail.pop(0)
            parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
            self.sent.append(parsed)

    def close(self) -> None:
        pass


def mailer_from_url(url: str | None, *, timeout: float = 30.0) -> Mailer:
    """The mailer a ``CRITDESK_SMTP_URL`` names; the console one when unset."""
    if not url or url == "console":
        return ConsoleMailer()
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
    modes = {"smtp": "starttls" if starttls else "plain", "smtp+starttls": "starttls"}
    modes["smtps"] = "tls"
    if parts.scheme not in modes or not parts.hostname:
        raise ValueError("CRITDESK_SMTP_URL must look like smtp://[user:pass@]host[:port]")
    default_port = {"plain": 25, "starttls": 587, "tls": 465}[modes[parts.scheme]]
    return SmtpMailer(
        parts.hostname,
        parts.port or default_port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        mode=modes[parts.scheme],
        timeout=timeout,
    )
