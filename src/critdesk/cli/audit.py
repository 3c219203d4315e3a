"""``critdesk audit``: seal and verify the audit trail's hash chain, and show its newest events.

``verify`` exits 0 when the chain is intact and 1 with the first problem (its seq, event id
and reason), so that a cron job or a monitoring check can alert on it. Record the head it
prints somewhere outside the database now and then, and pass it back with ``--anchor``: an
attacker able to rewrite both the events and the chain head is caught at that point.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta

import click
from sqlalchemy import select

from critdesk.audit import chain
from critdesk.audit.models import AuditEvent
from critdesk.audit.rules import parse_anchor
from critdesk.auth.models import User
from critdesk.cli.context import now, settings
from critdesk.db import Database, make_engine


@click.group()
def audit() -> None:
    """The audit trail: append-only and hash-chained."""


@contextmanager
def _database() -> Iterator[Database]:
    database = Database(make_engine(settings().effective_database_url, pool_size=1))
    try:
        yield database
    finally:
        database.dispose()


def _seal_everything(database: Database) -> int:
    """Seals every committed event, one committed batch at a time."""
    total = 0
    while True:
        with database.session() as db:
            sealed = chain.seal(db, now(), wait=True)
        total += sealed
        if sealed < chain.SEAL_LIMIT:
            return total


@audit.command("seal")
def seal() -> None:
    """Seal the events written since the last seal (the periodic sweep does this too)."""
    with _database() as database:
        try:
            sealed = _seal_everything(database)
        except chain.ChainBroken as error:
            raise click.ClickException(f"{error}; run critdesk audit verify") from error
        with database.session(read_only=True) as db:
            head = chain.read_head(db)
    click.echo(f"sealed {sealed} event(s); head {_head_text(head)}")


@audit.command("verify")
@click.option("--no-seal", is_flag=True, help="Check the chain as it is, sealing nothing first.")
@click.option("--anchor", help="SEQ:HASH printed by an earlier verify: the chain must hold it.")
@click.option(
    "--unsealed-minutes",
    type=click.IntRange(1),
    help="Warn about events unsealed longer than this "
    "(default: CRITDESK_AUDIT_UNSEALED_WARN_MINUTES).",
)
@click.pass_context
def verify(
    ctx: click.Context, no_seal: bool, anchor: str | None, unsealed_minutes: int | None
) -> None:
    """Walk the whole chain: exit 0 if intact, 1 with the first edited, deleted or forged event."""
    try:
        anchored = parse_anchor(anchor) if anchor else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--anchor") from error
    minutes = unsealed_minutes or settings().audit_unsealed_warn_minutes
    with _database() as database:
        if not no_seal:
            # Nothing is sealed onto a broken chain; the walk says what is wrong.
            with suppress(chain.ChainBroken):
                _seal_everything(database)
        with database.session(read_only=True) as db:
            result = chain.verify(
                db, now=now(), unsealed_after=timedelta(minutes=minutes), anchor=anchored
            )
    for warning in result.warnings:
        click.echo(f"warning: {warning}")
    if result.problem is not None:
        click.echo(f"audit chain BROKEN after {result.checked} good event(s)")
        click.echo(result.problem.describe())
        ctx.exit(1)
    click.echo(
        f"audit chain intact: {result.checked} sealed event(s), "
        f"head {result.last_seq}:{result.last_hash}"
    )
    if result.unsealed:
        click.echo(f"{result.unsealed} event(s) not sealed yet")


@audit.command("tail")
@click.option("-n", "--lines", default=20, show_default=True, type=click.IntRange(1, 1000))
def tail(lines: int) -> None:
    """The newest events with their seals, oldest first, and the chain head."""
    with _database() as database, database.session(read_only=True) as db:
        rows = db.execute(
            select(AuditEvent, User.email)
            .outerjoin(User, AuditEvent.actor_id == User.id)
            .order_by(AuditEvent.id.desc())
            .limit(lines)
        ).all()
        for event, email in reversed(rows):
            seal_text = f"seq {event.seq} {event.hash[:12]}" if event.hash else "unsealed"
            click.echo(
                f"{event.id:>8} {event.at:%Y-%m-%d %H:%M:%S}Z {seal_text:<22} "
                f"{email or '-'} {event.action} {event.object_type}:{event.object_id}"
            )
        click.echo(f"head {_head_text(chain.read_head(db))}")


def _head_text(head: chain.Head | None) -> str:
    return f"{head.seq}:{head.hash}" if head else "none (nothing sealed yet)"
