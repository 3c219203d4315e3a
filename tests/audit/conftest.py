"""Writing audit events, and tampering with them as someone who can switch the database's
append-only guard off (a superuser, the table's owner, or anyone with the SQLite file)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text

from critdesk.audit import chain, rules
from critdesk.audit import service as audit
from critdesk.audit.models import AuditEvent
from critdesk.db import Database


def add_events(database: Database, at: datetime, count: int, start: int = 0) -> None:
    with database.session() as db:
        for i in range(start, start + count):
            audit.record(
                db=db,
                at=at,
                actor_id=None,
                action="test.event",
                object_type="thing",
                object_id=i,
                organisation_id=(i % 3) or None,
                data={"i": i, "note": "café ✓", "nested": {"b": [1, 2.5, None], "a": True}},
            )


def seal(database: Database, now: datetime, **options: Any) -> int:
    with database.session() as db:
        return chain.seal(db, now, **options)


def verify(database: Database, **options: Any) -> chain.VerifyResult:
    with database.session(read_only=True) as db:
        return chain.verify(db, **options)


def sealed_row(conn: Connection, seq: int) -> dict[str, Any]:
    columns = AuditEvent.__table__.c
    row = conn.execute(select(AuditEvent.__table__).where(columns.seq == seq)).mappings().one()
    return dict(row)


def forge(row: dict[str, Any], seq: int, prev_hash: str, **changes: Any) -> dict[str, Any]:
    """A row with a hash computed as the sealer would: the forger knows the algorithm."""
    forged = row | changes | {"seq": seq, "prev_hash": prev_hash}
    forged["hash"] = rules.digest(seq, prev_hash, forged)
    return forged


@contextmanager
def guard_bypassed(database: Database) -> Iterator[Connection]:
    """A transaction with the append-only triggers off, put back on afterwards."""
    with database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
            yield conn
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
            return
        triggers = conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'audit_events'"
            )
        ).all()
        assert {name for name, _ in triggers} >= {
            "audit_events_no_update",
            "audit_events_no_delete",
        }
        for name, _ in triggers:
            conn.execute(text(f'DROP TRIGGER "{name}"'))
        yield conn
        for _, sql in triggers:
            conn.execute(text(sql))
