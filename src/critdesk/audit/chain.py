"""Sealing and verifying the audit chain.

Events are written unsealed, in the transaction of the change they record, so the write path
pays nothing for the chain. ``seal`` — a periodic sweep, and ``critdesk audit seal`` — takes
the unsealed events that have committed, in id order, and gives each the next ``seq``, the
previous event's hash and its own hash. One sealer runs at a time (a PostgreSQL advisory lock
held until commit; on SQLite the session is the single writer), so the chain never forks. Ids
may commit out of order on PostgreSQL (a transaction that took id 10 commits after the one that
took id 11): the sealer only sees committed rows, so the late one simply gets a later ``seq``.

``verify`` walks the chain in seq order, a page at a time (bounded memory), and reports the
first problem: an edited event, a gap or broken link (events deleted, inserted or replaced),
sealed events past the chain head (forged), a head past the last event (the newest deleted).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from critdesk.audit.models import AuditChainHead, AuditEvent
from critdesk.audit.rules import GENESIS, Problem, check_head, check_link, digest
from critdesk.db import write_batch

SEAL_BATCH = 2000
SEAL_LIMIT = 50_000
# The periodic sweep's unit of work on SQLite, which holds every writer back meanwhile (db.py).
SQLITE_SEAL_LIMIT = 100
VERIFY_BATCH = 5000
# The advisory lock of the single sealer ("critaud1" as 8 ASCII bytes).
SEAL_LOCK = 0x6372697461756431

_events = cast(Table, AuditEvent.__table__)
_CONTENT = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor_id,
    AuditEvent.organisation_id,
    AuditEvent.action,
    AuditEvent.object_type,
    AuditEvent.object_id,
    AuditEvent.data,
)
_SEALED = (*_CONTENT, AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash)
# Only a row not sealed yet: the database trigger refuses any other update anyway.
_SEAL = (
    update(_events)
    .where(_events.c.id == bindparam("b_id"), _events.c.seq.is_(None))
    .values(seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash"))
)


class ChainBroken(Exception):
    """Sealing refused: continuing would hide a problem (the chain head is gone)."""


@dataclass(frozen=True, slots=True)
class Head:
    seq: int
    hash: str


def sweep_batch(db: Session) -> int:
    """How many events one unit of work of the periodic sweep seals on this database."""
    return write_batch(db, SEAL_LIMIT, sqlite=SQLITE_SEAL_LIMIT)


def read_head(db: Session) -> Head | None:
    # Columns, not the entity: always what is committed now, never a cached object.
    row = db.execute(
        select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(AuditChainHead.id == 1)
    ).first()
    return Head(row.last_seq, row.last_hash) if row else None


def _sole_sealer(db: Session, wait: bool) -> bool:
    """Takes the sealer's lock until this transaction ends; False if busy and not waiting."""
    if db.get_bind().dialect.name != "postgresql":
        # SQLite: a read-write session began with BEGIN IMMEDIATE, so it is the only writer.
        return True
    if wait:
        db.execute(select(func.pg_advisory_xact_lock(SEAL_LOCK)))
        return True
    return bool(db.scalar(select(func.pg_try_advisory_xact_lock(SEAL_LOCK))))


def seal(db: Session, now: datetime, *, limit: int = SEAL_LIMIT, wait: bool = False) -> int:
    """Seals up to ``limit`` committed unsealed events in id order; returns how many.

    With ``wait=False`` (the periodic sweep) a sealer already at work elsewhere makes this one
    return 0 at once; ``wait=True`` (the command line) queues behind it instead."""
    if not _sole_sealer(db, wait):
        return 0
    head = read_head(db)
    if head is None and db.scalar(
        select(AuditEvent.id).where(AuditEvent.seq.is_not(None)).limit(1)
    ):
        raise ChainBroken("sealed audit events exist but the chain head is gone")
    seq, last_hash = (head.seq, head.hash) if head else (0, GENESIS)
    sealed = 0
    while sealed < limit:
        rows = db.execute(
            select(*_CONTENT)
            # A row carrying a hash but no seq is forged: left for verify to report.
            .where(AuditEvent.seq.is_(None), AuditEvent.hash.is_(None))
            .order_by(AuditEvent.id)
            .limit(min(SEAL_BATCH, limit - sealed))
        ).mappings()
        seals = []
        for row in rows:
            seq += 1
            row_hash = digest(seq, last_hash, row)
            seals.append({"b_id": row["id"], "b_seq": seq, "b_prev": last_hash, "b_hash": row_hash})
            last_hash = row_hash
        if not seals:
            break
        db.execute(_SEAL, seals)  # executemany: pipelined by psycopg on PostgreSQL
        sealed += len(seals)
    if sealed:
        values = {"last_seq": seq, "last_hash": last_hash, "sealed_at": now}
        if head is None:
            db.execute(insert(AuditChainHead).values(id=1, **values))
        else:
            db.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(**values))
    return sealed


def seal_all(db: Session, now: datetime) -> int:
    """Everything unsealed, in one unit of work (the command line)."""
    total = 0
    while sealed := seal(db, now, wait=True):
        total += sealed
    return total


# --- verifying ------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    checked: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    problem: Problem | None = None
    unsealed: int = 0
    oldest_unsealed_at: datetime | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


def _pages(db: Session, after: int, upto: int | None, batch: int) -> Iterator[RowMapping]:
    """Sealed rows with ``after < seq <= upto`` in seq order, ``batch`` at a time (keyset)."""
    while True:
        query = select(*_SEALED).where(AuditEvent.seq > after)
        if upto is not None:
            query = query.where(AuditEvent.seq <= upto)
        rows = db.execute(query.order_by(AuditEvent.seq).limit(batch)).mappings().all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1]["seq"]


def verify(
    db: Session,
    *,
    now: datetime | None = None,
    unsealed_after: timedelta | None = None,
    anchor: tuple[int, str] | None = None,
    batch: int = VERIFY_BATCH,
) -> VerifyResult:
    """Walks the whole chain and reports the first problem found (``result.problem``).

    Sealing may go on meanwhile: the walk reads the head first and goes up to it, then
    follows the head if it moved; rows sealed past a head that did not move are forged.
    ``anchor`` is a ``(seq, hash)`` kept outside the database: the chain must still hold it
    (an attacker who rewrote the chain and its head from some event on is caught there).
    """
    result = VerifyResult()
    head = read_head(db)
    while True:
        problem = _walk(db, result, head.seq if head else None, anchor, batch)
        if problem is not None:
            result.problem = problem
            return result
        beyond = db.execute(
            select(AuditEvent.seq, AuditEvent.id)
            .where(AuditEvent.seq > result.last_seq)
            .order_by(AuditEvent.seq)
            .limit(1)
        ).first()
        if beyond is None:
            break
        moved = read_head(db)
        if moved is not None and head is not None and moved.seq > head.seq:
            head = moved
            continue
        result.problem = Problem(
            "beyond_head",
            f"events are sealed past the chain head at seq {head.seq if head else 0} "
            "(forged events)",
            beyond.seq,
            beyond.id,
        )
        return result
    result.problem = (
        check_head(
            head.seq if head else None,
            head.hash if head else None,
            result.last_seq,
            result.last_hash,
        )
        or _anchor_problem(result, anchor)
        or _half_sealed(db)
    )
    _unsealed(db, result, now, unsealed_after)
    return result


def _walk(
    db: Session,
    result: VerifyResult,
    upto: int | None,
    anchor: tuple[int, str] | None,
    batch: int,
) -> Problem | None:
    for row in _pages(db, result.last_seq, upto, batch):
        problem = check_link(row, result.last_seq + 1, result.last_hash)
        if problem is not None:
            return problem
        if anchor is not None and row["seq"] == anchor[0] and row["hash"] != anchor[1]:
            return Problem(
                "anchor_mismatch",
                "the event at the anchored seq has another hash: the chain was rewritten",
                row["seq"],
                row["id"],
            )
        result.checked += 1
        result.last_seq, result.last_hash = row["seq"], row["hash"]
    return None


def _anchor_problem(result: VerifyResult, anchor: tuple[int, str] | None) -> Problem | None:
    if anchor is not None and anchor[0] > result.last_seq:
        return Problem(
            "anchor_missing",
            f"the chain ends at seq {result.last_seq}, before the anchored seq {anchor[0]}",
        )
    return None


def _half_sealed(db: Session) -> Problem | None:
    row = db.execute(
        select(AuditEvent.id)
        .where(
            AuditEvent.seq.is_(None),
            or_(AuditEvent.hash.is_not(None), AuditEvent.prev_hash.is_not(None)),
        )
        .order_by(AuditEvent.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    return Problem(
        "half_sealed", "an event carries a hash but no seq (forged or edited)", None, row.id
    )


def _unsealed(
    db: Session, result: VerifyResult, now: datetime | None, after: timedelta | None
) -> None:
    count, oldest = db.execute(
        select(func.count(), func.min(AuditEvent.at)).where(AuditEvent.seq.is_(None))
    ).one()
    result.unsealed = int(count or 0)
    result.oldest_unsealed_at = oldest
    if now is not None and after is not None and oldest is not None and oldest < now - after:
        minutes = int(after.total_seconds() // 60)
        result.warnings.append(
            f"{result.unsealed} event(s) not sealed yet, the oldest from {oldest:%Y-%m-%d %H:%M} "
            f"UTC, over {minutes} minutes ago: is the sealing sweep running?"
        )
