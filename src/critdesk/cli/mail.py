"""``critdesk mail serve``: the inbound e-mail listener an MTA on this host hands mail to."""

from __future__ import annotations

import logging
import signal
import threading

import click

from critdesk.cli.context import settings


@click.group()
def mail() -> None:
    """Inbound e-mail."""


@mail.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True, type=click.IntRange(1, 65535))
@click.option("--lmtp", is_flag=True, help="Speak LMTP (e.g. for Postfix's lmtp transport).")
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Listen on a non-loopback address. Anyone who can connect can hand over mail in any "
    "sender's name: only for a private network between the MTA and the desk.",
)
@click.option(
    "--migrate/--no-migrate",
    default=None,
    help="Run migrations first (default: yes on the embedded SQLite database).",
)
def serve(host: str, port: int, lmtp: bool, allow_remote: bool, migrate: bool | None) -> None:
    """Receive mail over SMTP (or LMTP) until SIGINT/SIGTERM.

    Messages from named contacts open cases or land on their case's timeline; others get one
    polite refusal a day; auto-replies and bounces are dropped. Messages over
    CRITDESK_MAIL_MAX_MESSAGE_BYTES are refused (552); a processing error answers 451 so that
    the MTA retries."""
    from critdesk.adapters.storage import storage_from_settings
    from critdesk.db import Database, make_engine
    from critdesk.mail.server import is_loopback, make_controller
    from critdesk.migration import upgrade
    from critdesk.web import system_clock

    if not allow_remote and not is_loopback(host):
        raise click.BadParameter(
            f"{host} is not a loopback address (see --allow-remote)", param_hint="--host"
        )
    config = settings()
    if migrate if migrate is not None else config.is_sqlite:
        upgrade(config.effective_database_url)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    database = Database(make_engine(config.effective_database_url, pool_size=4))
    controller = make_controller(
        database=database,
        storage=storage_from_settings(config),
        settings=config,
        clock=system_clock,
        host=host,
        port=port,
        lmtp=lmtp,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_args: stop.set())
    controller.start()
    click.echo(f"critdesk mail: {'LMTP' if lmtp else 'SMTP'} on {host}:{port}")
    try:
        stop.wait()
    finally:
        controller.stop()
        database.dispose()
