"""Sealing and verifying the audit chain on every configured database: an untouched chain
verifies, every kind of tampering is found, the database refuses edits, late commits and
concurrent sealers never fork the chain."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from critdesk.audit import chain
from critdesk.audit import service as audit
from critdesk.audit.models import AuditChainHead, AuditEvent
from critdesk.audit.rules import GENESIS, digest
from critdesk.jobs import periodic
from tests.audit.conftest import add_events, forge, guard_bypassed, seal, sealed_row, verify

EVENTS = AuditEvent.__table__


def seqs_by_id(database: Any) -> dict[int, int]:
    with database.session(read_only=True) as db:
        return {row.id: row.seq for row in db.execute(select(AuditEvent.id, AuditEvent.seq))}


def test_an_untouched_chain_verifies_after_many_events(database, clock) -> None:
    for round_ in range(3):
        add_events(database, clock.now, 150, start=round_ * 150)
        assert seal(database, clock.now, limit=100) == 100  # a sweep seals at most its limit
        assert seal(database, clock.now) == 50
        clock.advance(minutes=1)
    result = verify(database, batch=64)  # pages of 64: the walk crosses many page boundaries
    assert result.ok, result.problem
    assert (result.checked, result.last_seq, result.unsealed) == (450, 450, 0)
    with database.session(read_only=True) as db:
        head = chain.read_head(db)
    assert head == chain.Head(450, result.last_hash)


def test_events_are_sealed_in_id_order_each_linked_to_the_one_before(database, clock) -> None:
    add_events(database, clock.now, 5)
    assert seal(database, clock.now) == 5
    assert seal(database, clock.now) == 0
    with database.session(read_only=True) as db:
        rows = db.execute(select(EVENTS).order_by(EVENTS.c.seq)).mappings().all()
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    previous = GENESIS
    for row in rows:
        assert row["prev_hash"] == previous
        assert row["hash"] == digest(row["seq"], previous, row)
        previous = row["hash"]


def test_an_empty_trail_verifies(database) -> None:
    result = verify(database)
    assert result.ok and result.checked == 0


# --- tampering, with the database's guard switched off -----------------------------------------


def _edit_data(conn: Any, last: int) -> None:
    conn.execute(update(EVENTS).where(EVENTS.c.seq == 5).values(data={"i": 999}))


def _edit_action(conn: Any, last: int) -> None:
    conn.execute(update(EVENTS).where(EVENTS.c.seq == 5).values(action="test.harmless"))


def _edit_time(conn: Any, last: int) -> None:
    row = sealed_row(conn, 5)
    conn.execute(
        update(EVENTS).where(EVENTS.c.seq == 5).values(at=row["at"] - timedelta(seconds=1))
    )


def _edit_and_rehash(conn: Any, last: int) -> None:
    row = sealed_row(conn, 5)
    forged = forge(row, 5, row["prev_hash"], data={"i": 999})
    conn.execute(
        update(EVENTS).where(EVENTS.c.seq == 5).values(data=forged["data"], hash=forged["hash"])
    )


def _delete_middle(conn: Any, last: int) -> None:
    conn.execute(delete(EVENTS).where(EVENTS.c.seq == 5))


def _delete_last(conn: Any, last: int) -> None:
    conn.execute(delete(EVENTS).where(EVENTS.c.seq == last))


def _replace_middle(conn: Any, last: int) -> None:
    row = sealed_row(conn, 5)
    conn.execute(delete(EVENTS).where(EVENTS.c.seq == 5))
    conn.execute(insert(EVENTS).values(forge(row, 5, row["prev_hash"], id=10_000, action="x.y")))


def _append_forged(conn: Any, last: int) -> None:
    row = sealed_row(conn, last)
    conn.execute(insert(EVENTS).values(forge(row, last + 1, row["hash"], id=10_000)))


def _half_sealed(conn: Any, last: int) -> None:
    row = sealed_row(conn, 3)
    conn.execute(insert(EVENTS).values(row | {"id": 10_000, "seq": None}))


def _delete_head(conn: Any, last: int) -> None:
    conn.execute(delete(AuditChainHead))


TAMPERING = {
    "edit data": (_edit_data, "edited", 5),
    "edit action": (_edit_action, "edited", 5),
    "edit time": (_edit_time, "edited", 5),
    "edit and recompute the hash": (_edit_and_rehash, "broken_link", 6),
    "delete a middle event": (_delete_middle, "gap", 6),
    "delete the last event": (_delete_last, "head_mismatch", 11),
    "replace a middle event": (_replace_middle, "broken_link", 6),
    "append a forged event": (_append_forged, "beyond_head", 13),
    "insert a half-sealed event": (_half_sealed, "half_sealed", None),
    "delete the chain head": (_delete_head, "head_missing", None),
}


@pytest.mark.parametrize("kind", TAMPERING)
def test_tampering_with_one_event_is_found(database, clock, kind: str) -> None:
    add_events(database, clock.now, 12)
    seal(database, clock.now)
    assert verify(database).ok
    tamper, code, seq = TAMPERING[kind]
    with guard_bypassed(database) as conn:
        tamper(conn, 12)
    result = verify(database)
    assert result.problem is not None, kind
    assert (result.problem.code, result.problem.seq) == (code, seq), result.problem
    assert result.problem.describe().startswith(code)


@pytest.mark.parametrize(
    ("kind", "code", "seq"),
    [
        ("edit data", "edited", 5),
        ("delete a middle event", "gap", 6),
        ("delete the last event", "gap", 13),  # no longer the last: a hole in the chain
        ("replace a middle event", "broken_link", 6),
        ("insert a half-sealed event", "half_sealed", None),
    ],
)
def test_damage_is_still_found_after_sealing_goes_on(database, clock, kind, code, seq) -> None:
    add_events(database, clock.now, 12)
    seal(database, clock.now)
    with guard_bypassed(database) as conn:
        TAMPERING[kind][0](conn, 12)
    add_events(database, clock.now, 3, start=12)
    assert seal(database, clock.now) == 3  # a forged half-sealed row is left alone
    problem = verify(database).problem
    assert problem is not None and (problem.code, problem.seq) == (code, seq), problem


def test_sealing_refuses_to_go_on_once_the_chain_head_is_gone(database, clock) -> None:
    add_events(database, clock.now, 3)
    seal(database, clock.now)
    with guard_bypassed(database) as conn:
        _delete_head(conn, 3)
    add_events(database, clock.now, 1)
    with pytest.raises(chain.ChainBroken):
        seal(database, clock.now)
    assert verify(database).problem.code == "head_missing"  # type: ignore[union-attr]


def test_an_anchor_catches_a_rewritten_tail_and_head(database, clock) -> None:
    add_events(database, clock.now, 6)
    seal(database, clock.now)
    anchor = (6, verify(database).last_hash)
    with guard_bypassed(database) as conn:
        row = sealed_row(conn, 6)
        forged = forge(row, 6, row["prev_hash"], action="test.harmless")
        conn.execute(update(EVENTS).where(EVENTS.c.seq == 6).values(**forged))
        conn.execute(update(AuditChainHead).values(last_hash=forged["hash"]))
    assert verify(database).ok  # the chain alone cannot tell: its head was rewritten too
    problem = verify(database, anchor=anchor).problem
    assert problem is not None and (problem.code, problem.seq) == ("anchor_mismatch", 6)
    assert verify(database, anchor=(9, anchor[1])).problem.code == "anchor_missing"  # type: ignore[union-attr]


# --- the database's own guard ------------------------------------------------------------------


def test_the_database_refuses_to_edit_or_delete_events(database, clock) -> None:
    add_events(database, clock.now, 2)
    seal(database, clock.now)
    add_events(database, clock.now, 1, start=2)  # and one not sealed yet
    attempts = [
        update(EVENTS).where(EVENTS.c.seq == 1).values(action="test.harmless"),
        update(EVENTS).where(EVENTS.c.seq == 1).values(hash="f" * 64),
        update(EVENTS).where(EVENTS.c.seq.is_(None)).values(data={"i": 1}),
        # a "seal" that changes content on the way is no seal
        update(EVENTS)
        .where(EVENTS.c.seq.is_(None))
        .values(seq=99, prev_hash="0" * 64, hash="f" * 64, action="x.y"),
        delete(EVENTS).where(EVENTS.c.seq == 1),
        delete(EVENTS).where(EVENTS.c.seq.is_(None)),
    ]
    for statement in attempts:
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
            conn.execute(statement)
    assert seal(database, clock.now) == 1  # the one-time seal is still allowed
    assert verify(database).ok


# --- unsealed events, late commits, concurrent sealers -----------------------------------------


def test_old_unsealed_events_are_a_warning_not_a_failure(database, clock) -> None:
    add_events(database, clock.now - timedelta(minutes=30), 2)
    result = verify(database, now=clock.now, unsealed_after=timedelta(minutes=10))
    assert result.ok and result.unsealed == 2
    assert len(result.warnings) == 1 and "2 event(s) not sealed yet" in result.warnings[0]
    assert not verify(database, now=clock.now, unsealed_after=timedelta(hours=1)).warnings


def test_an_event_committed_after_later_ids_were_sealed_gets_a_later_seq(database, clock) -> None:
    with database.session() as db:
        for event_id in (100, 101):
            db.execute(insert(EVENTS).values(_content(event_id, clock.now)))
    assert seal(database, clock.now) == 2
    with database.session() as db:  # a smaller id, visible only now
        db.execute(insert(EVENTS).values(_content(50, clock.now)))
    assert seal(database, clock.now) == 1
    assert seqs_by_id(database) == {100: 1, 101: 2, 50: 3}
    assert verify(database).ok


def _content(event_id: int, at: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "at": at,
        "actor_id": None,
        "organisation_id": None,
        "action": "test.event",
        "object_type": "thing",
        "object_id": str(event_id),
        "data": {},
    }


def test_a_transaction_that_commits_late_is_sealed_after_the_ones_before_it(
    database, clock, backend
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite has one writer: no transaction commits around another")
    slow = database.sessions()
    early = audit.record(
        db=slow, at=clock.now, actor_id=None, action="test.slow", object_type="t", object_id=1
    )
    slow.flush()  # its id is taken now, its commit comes later
    add_events(database, clock.now, 1)
    assert seal(database, clock.now) == 1  # only what has committed
    slow.commit()
    slow.close()
    assert seal(database, clock.now) == 1
    seqs = seqs_by_id(database)
    later_id = max(seqs)
    assert early < later_id and seqs[early] == 2 and seqs[later_id] == 1
    assert verify(database).ok


def test_concurrent_writers_and_sealers_never_fork_the_chain(database, clock) -> None:
    writers, per_writer, failures = 3, 40, []
    sealed_counts: list[int] = []
    writing = threading.Event()
    writing.set()

    def write(n: int) -> None:
        try:
            for i in range(per_writer):
                add_events(database, clock.now, 1, start=n * 1000 + i)
        except Exception as error:
            failures.append(error)

    def keep_sealing(wait: bool) -> None:
        try:
            while writing.is_set():
                sealed_counts.append(seal(database, clock.now, limit=7, wait=wait))
        except Exception as error:
            failures.append(error)

    sealers = [threading.Thread(target=keep_sealing, args=(w,)) for w in (True, False, True)]
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in sealers + threads:
        thread.start()
    for thread in threads:
        thread.join()
    writing.clear()
    for thread in sealers:
        thread.join()
    assert not failures, failures
    with database.session() as db:
        rest = chain.seal_all(db, clock.now)
    assert sum(sealed_counts) + rest == writers * per_writer  # each event sealed exactly once
    result = verify(database, batch=16)
    assert result.ok, result.problem
    assert result.checked == writers * per_writer
    with database.session(read_only=True) as db:
        assert db.scalar(select(func.count()).where(EVENTS.c.seq.is_(None))) == 0


def test_the_periodic_sweeps_seal_what_was_written(database, clock, settings) -> None:
    add_events(database, clock.now, 4)
    done = periodic.run_sweeps(database, settings, clock.now)
    assert done["audit_seal"] == 4
    assert verify(database).checked == 4


def test_the_sweep_seals_a_backlog_a_short_unit_of_work_at_a_time(
    database, clock, settings, monkeypatch
) -> None:
    """On SQLite a unit of work holds every writer back: the sweep seals a backlog in units of
    ``SQLITE_SEAL_LIMIT`` (PostgreSQL: ``SEAL_LIMIT``), committing each, until none is left."""
    monkeypatch.setattr(chain, "SQLITE_SEAL_LIMIT", 3)
    monkeypatch.setattr(chain, "SEAL_LIMIT", 3)
    units: list[int] = []
    real_seal = chain.seal

    def counting(db: Any, now: Any, **kwargs: Any) -> int:
        sealed = real_seal(db, now, **kwargs)
        units.append(sealed)
        return sealed

    monkeypatch.setattr(chain, "seal", counting)
    add_events(database, clock.now, 10)
    done = periodic.run_sweeps(database, settings, clock.now)
    assert done["audit_seal"] == 10
    assert units == [3, 3, 3, 1]
    result = verify(database)
    assert result.ok and result.checked == 10
