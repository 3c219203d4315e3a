"""``critdesk mail serve`` as an operator runs it: listening until SIGTERM."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import threading
import time
from email.policy import SMTP
from pathlib import Path

import pytest
from click.testing import CliRunner

from critdesk.cli.main import cli
from tests.mail.conftest import DESK, free_port, inbound, mail


def test_it_refuses_to_listen_beyond_loopback_unless_told_to() -> None:
    result = CliRunner().invoke(cli, ["mail", "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "not a loopback address" in result.output


def _talk_then_terminate(port: int, replies: list[object]) -> None:
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        message = mail("a@elsewhere.example", "Hi").as_bytes(policy=SMTP)
        with smtplib.SMTP("127.0.0.1", port) as client:
            replies.append(client.sendmail("a@elsewhere.example", [DESK], message))
    except Exception as error:
        replies.append(error)
    finally:
        os.kill(os.getpid(), signal.SIGTERM)


def test_it_receives_mail_until_sigterm(
    database_url: str, database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRITDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("CRITDESK_DATA_DIR", str(tmp_path))
    port, replies = free_port(), []
    talker = threading.Thread(target=_talk_then_terminate, args=(port, replies))
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    talker.start()
    try:
        result = CliRunner().invoke(cli, ["mail", "serve", "--port", str(port), "--no-migrate"])
    finally:
        talker.join(timeout=30)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert result.exit_code == 0, result.output
    assert f"SMTP on 127.0.0.1:{port}" in result.output
    assert replies == [{}]
    assert inbound(database) == [
        ("a@elsewhere.example", "refused", "the sender is not a named contact; a refusal is queued")
    ]
