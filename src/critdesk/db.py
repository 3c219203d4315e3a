"""Engine and sessions: one session per request, job or command, committed once by its owner."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import JSON, CursorResult, DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns aware UTC datetimes.

    SQLite has no time zones, so values are normalised to naive UTC on the way in and made aware
    again on the way out; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return _aware_utc

        # SQLite hands back the ISO text SQLAlchemy wrote (naive UTC): parsed and made aware in
        # one C call by reading it with its offset, "+00:00" (the generic path parses with a
        # regular expression, then calls the method above; ``replace(tzinfo=...)`` alone cost
        # eight times the parse, and a queue page reads about a thousand of these).
        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                try:
                    return datetime.fromisoformat(value + "+00:00")
                except ValueError:
                    parsed = datetime.fromisoformat(value)  # text with an offset of its own
            else:
                parsed = value
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)

        return process


def _aware_utc(value: datetime | None) -> datetime | None:
    """A ``timestamptz`` as psycopg reads it, in UTC. Our sessions run in UTC (``make_engine``)
    so it arrives in UTC already and is handed on as it is; the generic path (a call through
    the decorator, then ``astimezone``) cost a sixth of a queue page's CPU on PostgreSQL."""
    if value is None or value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


log = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 10
# SQLite checkpoints the write-ahead log on the commit that takes it past this many pages
# (its default is 1,000). A server's checkpoints run beside the requests (Checkpointer, below),
# so a commit does this only when the checkpointer is not keeping up or not running (a
# command, a worker on its own); 10,000 pages of 4 KiB bound the log at about 40 MiB then.
FALLBACK_AUTOCHECKPOINT_PAGES = 10_000


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; the busy timeout makes concurrent writers
    # from several processes wait their turn instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_AUTOCHECKPOINT_PAGES}")
    cursor.close()


def sqlite_file(engine: Engine) -> str | None:
    """The database file of an on-disk SQLite engine; None for PostgreSQL or memory."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return database


class _HandOffLock:
    """A lock passed to its waiters in the order they came: ``threading.Lock`` lets a newcomer
    take it ahead of a waiter that was woken but not yet scheduled, which on a busy machine
    left some writers waiting for seconds. Any thread may release it.

    A thread running an event loop that asks for the lock while it already holds it can only be
    a second request of the same loop (handlers run inline, ``critdesk.execution``) behind one
    that awaited something with its write transaction open: waiting would stop the loop, and
    the holder with it, for the whole busy timeout. That is refused at once instead (answered
    as "busy, retry" and logged as the bug it is)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._held = False
        self._holder: int | None = None

    def acquire(self, timeout: float) -> bool:
        me = threading.get_ident()
        with self._mutex:
            if not self._held:
                self._held = True
                self._holder = me
                return True
            if self._holder == me and _running_loop():
                log.error(
                    "a write transaction was left open across an await on this event loop: "
                    "refusing the next writer of the loop rather than stopping the loop"
                )
                return False
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(timeout):
            self._holder = me
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ran out
                self._holder = me
                return True
            self._waiters.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            self._holder = None
            if self._waiters:
                self._waiters.popleft().set()  # still held: it passes straight to the next
            else:
                self._held = False


def _running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class WriterQueue:
    """Lines up this database's writers before ``BEGIN IMMEDIATE``, across threads and processes.

    SQLite's busy handler waits by sleeping and retrying with growing sleeps (up to 100 ms), so
    under load a writer that has waited long keeps losing the lock to newcomers: with 16
    clients, a few cases took seconds to create. Here a writer waits in line in its process
    (a lock handed over in arrival order) and then on an exclusive ``flock`` of a file beside
    the database (one writer of each process), both of which wake the next waiter as soon as
    the lock is free; only the writer at the head of the line ever meets SQLite's busy
    handler. SQLite still takes and checks its own write lock exactly as before.

    A unit of work may begin on one thread and commit on another (FastAPI runs a request's
    dependencies and route on pool threads), so the line's lock is not owned by a thread; the
    wait in it is bounded by the busy timeout, as SQLite's own wait was.
    """

    def __init__(self, lock_path: str | None) -> None:
        self._threads = _HandOffLock()
        self._lock_path = lock_path
        self._fd: int | None = None

    def acquire(self) -> None:
        if not self._threads.acquire(timeout=BUSY_TIMEOUT_SECONDS):
            raise OperationalError(
                "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
            )
        try:
            if self._lock_path is not None:
                if self._fd is None:
                    self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


class Checkpointer:
    """Copies the write-ahead log back into an SQLite database file from a thread of its own.

    Left to SQLite, the commit that takes the log past 1,000 pages does the checkpoint itself,
    holding the write lock meanwhile: every 50th case or so waited 15-25 ms for it, and every
    writer in line behind it too (bench/RESULTS.md). Here, each turn:

    1. a passive checkpoint, beside the writers (they go on appending to the log): it copies
       what the log holds and syncs the file, which is where the time goes;
    2. then, holding the writers' line (``WriterQueue``), a restarting checkpoint: it copies the
       few pages written during the first step and waits (at most ``restart_wait`` seconds)
       for the readers of older pages, so that the next writer starts the log again from its
       beginning. Without it the log never rewinds while writes go on: a passive checkpoint
       always ends behind the last commit.

    The turns come as fast as the log grows (``next_wait``): as long as it takes to write
    ``log_pages`` pages at the pace of the last turn, at most ``interval`` seconds and at least
    ``min_interval``. A report writes about twenty pages to the log (the rows and their
    indexes' pages), so 700 reports a second fill 10,000 pages in 0.7 s: on a fixed one-second
    turn the log reached the engine's fallback between turns, and every 0.7 s one commit did
    the checkpoint itself (22-32 ms, the writers of both server processes waiting behind it).

    One process of those sharing the database does this at a time (an ``flock`` on a file
    beside it, held while its checkpointer runs); the others stand by and take over if it
    ends. A log that still grows past the engine's fallback (a checkpointer that cannot keep
    up or none at all) is checkpointed by SQLite on commit, as before.
    """

    def __init__(
        self,
        path: str,
        line: WriterQueue | None = None,
        *,
        interval: float = 0.5,
        min_interval: float = 0.1,
        log_pages: int = 3_000,
        restart_wait: float = 0.05,
    ) -> None:
        self.path = path
        self.line = line
        self.interval = interval
        self.min_interval = min(min_interval, interval)
        self.log_pages = log_pages
        self.restart_wait = restart_wait
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="critdesk-sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=BUSY_TIMEOUT_SECONDS)
            self._thread = None

    def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int]:
        """Both steps; returns the log's pages and how many of them are in the database file
        (0, 0 or n, n when the log will start again)."""
        _busy, pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if pages <= 0:
            return pages, copied
        if self.line is not None:
            self.line.acquire()
        try:
            _busy, pages, copied = connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        finally:
            if self.line is not None:
                self.line.release()
        return pages, copied

    def next_wait(self, pages: int, seconds: float) -> float:
        """The wait before the next turn, the last one having found ``pages`` pages in the log
        ``seconds`` after the turn before it ended: the time the log takes to grow by
        ``log_pages`` at that pace, between ``min_interval`` and ``interval``."""
        if pages <= 0 or seconds <= 0:
            return self.interval
        return min(self.interval, max(self.min_interval, self.log_pages * seconds / pages))

    def _run(self) -> None:
        owner: int | None = None  # the lock file, open while this process is the checkpointer
        connection: sqlite3.Connection | None = None
        wait = self.min_interval  # the first turn soon: it measures the log's pace
        ended = time.monotonic()  # the last turn's end (the log starts again from about then)
        try:
            while not self._stop.wait(wait):
                wait = self.interval
                try:
                    if owner is None:
                        owner = os.open(
                            f"{self.path}-checkpoint.lock", os.O_RDWR | os.O_CREAT, 0o600
                        )
                    try:
                        fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # another process checkpoints this database
                    if connection is None:
                        connection = sqlite3.connect(
                            self.path, timeout=self.restart_wait, isolation_level=None
                        )
                    started = time.monotonic()
                    pages, _copied = self.checkpoint(connection)
                    wait = self.next_wait(pages, started - ended)
                    ended = time.monotonic()
                except (OSError, sqlite3.Error, OperationalError):
                    # A database folder gone or not there yet, a disk error: the next turn
                    # tries again from the start.
                    log.warning("checkpoint of %s failed; retrying", self.path, exc_info=True)
                    if connection is not None:
                        connection.close()
                        connection = None
        finally:
            if connection is not None:
                connection.close()
            if owner is not None:
                os.close(owner)  # the lock goes with it


_QUEUED = "critdesk_writer_queued"


def _sqlite_transactions(engine: Engine) -> None:
    database = sqlite_file(engine)
    writers = WriterQueue(f"{database}-writers.lock" if database is not None else None)
    _WRITER_LINES[engine] = writers

    def begin(conn: Any) -> None:
        # A deferred SQLite transaction that reads then writes can fail to upgrade its lock
        # under concurrency; taking the write lock at BEGIN makes writers queue (above).
        # Read-only units of work (GET requests) begin deferred so they never wait on writers.
        if conn.get_execution_options().get("critdesk_read_only", False):
            _begin(conn, "BEGIN")
            return
        writers.acquire()
        try:
            _begin(conn, "BEGIN IMMEDIATE")
        except BaseException:
            writers.release()
            raise
        conn.info[_QUEUED] = True

    def end(conn: Any) -> None:
        if conn.info.pop(_QUEUED, False):
            writers.release()

    def returned(record: Any) -> None:
        # Whatever way a connection leaves its transaction, its place in the line goes too.
        if record is not None and record.info.pop(_QUEUED, False):
            writers.release()

    event.listen(engine, "begin", begin)
    # Released as COMMIT or ROLLBACK is sent: the next writer may meet SQLite's lock for the
    # moment that takes, and then waits on the busy handler as before.
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)
    event.listen(engine.pool, "reset", lambda _conn, record, _state: returned(record))
    event.listen(engine.pool, "checkin", lambda _conn, record: returned(record))
    event.listen(engine.pool, "invalidate", lambda _conn, record, _error: returned(record))


def _begin(conn: Any, statement: str) -> None:
    """``statement`` sent by the driver itself: a request begins three or four transactions,
    and the engine's own path (``exec_driver_sql``: a cursor result, events, the statement's
    context) cost several times the statement. Its errors reach the caller as the engine
    would raise them (a locked database is an ``OperationalError``: "busy, retry")."""
    try:
        conn.connection.driver_connection.execute(statement)
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error


_WRITER_LINES: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


def writer_line(engine: Engine) -> WriterQueue | None:
    """The line an SQLite engine's writers wait in (None for PostgreSQL)."""
    return _WRITER_LINES.get(engine)


def checkpointer(engine: Engine) -> Checkpointer | None:
    """A checkpointer for an on-disk SQLite engine, not started; None otherwise."""
    path = sqlite_file(engine)
    return Checkpointer(path, writer_line(engine)) if path is not None else None


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "isolation_level": None},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        event.listen(engine, "connect", _configure_sqlite)
        _sqlite_transactions(engine)
        return engine
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size)
    _ping_when_idle(engine)
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "connect", _session_in_utc)
    return engine


# A pooled connection unused this long is pinged before it is handed out again: the server may
# have restarted, or an idle timeout or a proxy dropped it meanwhile. One in steady use is not
# (SQLAlchemy's pool_pre_ping pings every checkout: a round trip, measured 55-110 µs of CPU and
# 90-220 µs of wall time, and a report checks out twice). A connection that went away while in
# steady use fails its request's first statement instead: the engine then replaces every pooled
# connection, and the request is answered "busy, retry" (503).
PING_IDLE_SECONDS = 1.0
_IDLE_SINCE = "critdesk_idle_since"


def _ping_when_idle(engine: Engine) -> None:
    dialect = engine.dialect

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < PING_IDLE_SECONDS:
            return  # new, or in steady use
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool drops this connection and checks out another (SQLAlchemy's
                # documented way for a checkout event to refuse a dead connection).
                raise DisconnectionError() from error
            raise

    event.listen(engine.pool, "checkin", checked_in)
    event.listen(engine.pool, "checkout", checked_out)


def _session_in_utc(dbapi_connection: Any, _record: Any) -> None:
    # psycopg reads a timestamptz in the session's time zone: in UTC it is already what the
    # application holds (UTCDateTime), whatever the server's default (often 'Etc/UTC', which
    # psycopg reads as a ZoneInfo that would then be converted value by value).
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute("SET TIME ZONE 'UTC'")
    finally:
        dbapi_connection.autocommit = autocommit


def write_batch(session: Session, size: int, *, sqlite: int) -> int:
    """How many rows one unit of work of a background job takes on: ``size``, or on SQLite
    ``sqlite``. There a write transaction holds the whole database's write lock and every
    request's write waits behind it: a job's batch is sized for about 10 ms of work, and the
    job commits it and takes the next one in a new transaction."""
    return sqlite if session.get_bind().dialect.name == "sqlite" else size


def insert_row(session: Session, statement: Any, row: dict[str, Any]) -> int:
    """Runs a plain Core ``insert`` of one row on the session's connection, in its transaction,
    and returns the row's primary key.

    ``Session.execute`` would run it through the ORM's execution layer (execution state, the
    session's events, ORM result set-up), none of which a plain INSERT of a table uses: the
    connection's own ``execute`` is the same statement with less around it."""
    key = cast(CursorResult[Any], session.connection().execute(statement, row)).inserted_primary_key
    assert key is not None  # an INSERT of one row
    return int(key[0])


def begin_read(session: Session) -> None:
    """Begins the session's next transaction as a read: on SQLite a deferred ``BEGIN`` outside
    the writers' line (above). For reads only; a write in it would have to upgrade the lock."""
    session.connection(execution_options={"critdesk_read_only": True})


@contextmanager
def reads_before_writes(session: Session) -> Iterator[None]:
    """The block's reads in a read transaction of their own, ended with the block, when the
    unit of work has not begun yet on SQLite: the write lock is then taken by the first write
    after the block, and the checks and rules before it run outside the writers' line.
    Elsewhere (PostgreSQL, or a unit of work already under way) the block just runs."""
    if session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        yield
        return
    begin_read(session)
    try:
        yield
    except BaseException:
        session.rollback()
        raise
    session.commit()


def commit_then_read(session: Session) -> None:
    """Commits the unit of work so far and goes on reading, so that what the request still
    reads (rendering its answer) does not hold SQLite's write lock: on SQLite the session's
    next transaction, begun by its next statement if there is one, is a read (``begin_read``).
    Nothing is begun meanwhile (a report whose answer reads nothing more begins nothing)."""
    session.commit()
    reading = session.info.get(_READING)
    if reading is None:  # a session not made by Database: the eager way
        begin_read(session)
    elif reading.dialect.name == "sqlite":
        session.bind = reading


# Session.info key: the engine of the session's Database whose transactions begin as reads.
_READING = "critdesk_reading_engine"


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        reading = engine.execution_options(critdesk_read_only=True)
        self.sessions = sessionmaker(engine, expire_on_commit=False, info={_READING: reading})
        self.read_sessions = sessionmaker(reading, expire_on_commit=False)

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """The unit of work: commits when the block ends normally, rolls back otherwise."""
        session = (self.read_sessions if read_only else self.sessions)()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
