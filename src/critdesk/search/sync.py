"""Keep a process's ``SimilarityEngine`` consistent with the database, across processes.

Each API process holds its own in-memory engine. ``IndexSync`` builds it from the database
(``rebuild``) and then catches up with what any process committed (``refresh``), so a bug
created through one API process is found through another as soon as that one refreshes —
the API calls ``refresh()`` before every search.

How ``refresh`` catches up (one indexed query per source when nothing changed):

- it reads the rows whose ``updated_at`` is at or after the newest ``updated_at`` it has seen
  **minus an overlap window** (5 s). A transaction that stamped ``updated_at`` but committed a
  moment later, or a process whose clock runs a little behind, is still read on a later poll;
  ``ix_bugs_updated (updated_at, id)`` serves the query;
- re-read rows are idempotent upserts: a row whose ``updated_at`` was already indexed is
  skipped, so the overlap costs a few row reads, not re-indexing;
- every change that matters bumps ``updated_at`` (the bug service does so on edit, state
  change and publication): a bug marked ``duplicate`` or ``wont_fix`` stays searchable with
  its new state, a change of ``public`` takes effect, a source may return ``None`` for a row
  that must leave the index;
- rows deleted outright leave no ``updated_at`` to poll, and a transaction slower than the
  overlap window would be missed: every ``reconcile_seconds`` (60 s) ``reconcile`` compares
  the (id, updated_at) pairs with the index — removes the deleted, re-reads the missed.

Sources are pluggable (``Source``: a kind, a loader of changed rows, a lister of versions),
so published articles can join the same engine later; ``BUGS`` is the one for bug reports.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from critdesk.bug.models import Bug
from critdesk.db import Database
from critdesk.search.engine import Doc, SimilarityEngine
from critdesk.search.signatures import extract_signatures

OVERLAP = timedelta(seconds=5)
RECONCILE_SECONDS = 60.0
BATCH = 1000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """One row as of now: its document, or ``None`` when it must not be searchable."""

    id: str
    updated_at: datetime
    doc: Doc | None


@dataclass(frozen=True)
class Source:
    kind: str
    # Rows changed at or after ``since`` (all rows when None), oldest first.
    changes: Callable[[Session, datetime | None], Iterable[Change]]
    # (doc id, updated_at) of every row: for reconciliation.
    versions: Callable[[Session], Iterable[tuple[str, datetime]]]
    count: Callable[[Session], int]
    # The mapped classes whose rows it indexes: a commit in this process that changes one
    # makes this process's next search catch up at once (``LocalWrites``).
    models: tuple[type, ...] = ()


class LocalWrites:
    """Counts this process's commits that changed an indexed row.

    ``IndexSync.refresh`` polls the database at most every ``refresh_seconds`` (other
    processes' changes are found within that), but not after a commit here that touched a
    watched class: whoever files a bug through this process finds it on their next search."""

    def __init__(self) -> None:
        self.generation = 0
        self._watched: tuple[type, ...] = ()
        self._listening = False
        self._lock = threading.Lock()

    def watch(self, models: Iterable[type]) -> None:
        with self._lock:
            self._watched = tuple(dict.fromkeys((*self._watched, *models)))
            if not self._listening and self._watched:
                event.listen(Session, "after_flush", self._after_flush)
                event.listen(Session, "after_commit", self._after_commit)
                self._listening = True

    def _after_flush(self, session: Session, _context: Any) -> None:
        watched = self._watched
        if session.info.get(_TOUCHED) or not watched:
            return
        for instance in (*session.new, *session.dirty, *session.deleted):
            if isinstance(instance, watched):
                session.info[_TOUCHED] = True
                return

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_TOUCHED, False):
            self.generation += 1


_TOUCHED = "critdesk.search.touched"
LOCAL_WRITES = LocalWrites()


def bug_doc(bug: Any) -> Doc:
    """The searchable document of a ``Bug`` (or of any row with its columns' names).

    Customers see a bug only once it is public *and* submitted, and so does ``public_only``.
    """
    versions = ", ".join(str(v) for v in (bug.affected_versions or []))
    fields = [
        bug.description,
        _labelled("Steps to reproduce", bug.steps_to_reproduce),
        _labelled("Expected", bug.expected),
        _labelled("Actual", bug.actual),
        _labelled("Workaround", bug.workaround),
        _labelled("Component", bug.component),
        _labelled("Product", bug.product),
        _labelled("Affected versions", versions),
    ]
    text = "\n".join(f for f in fields if f)
    stored = [_signature_text(s) for s in (bug.signatures or [])]
    signatures = (*(s for s in stored if s), *extract_signatures(f"{bug.title}\n{text}"))
    return Doc(
        id=f"bug:{bug.id}",
        kind="bug",
        title=bug.title or "",
        text=text,
        signatures=tuple(dict.fromkeys(signatures)),
        public=bug.is_public,
        created_at=bug.created_at,
        state=bug.state,
    )


def _labelled(label: str, value: str | None) -> str | None:
    return f"{label}: {value}" if value else None


def _signature_text(stored: Any) -> str | None:
    # Signatures are strings; tolerate {"signature": ...} records from the log analysis.
    if isinstance(stored, str):
        return stored
    if isinstance(stored, dict):
        value = stored.get("signature")
        return value if isinstance(value, str) else None
    return None


# The columns ``bug_doc`` reads: plain rows, no ORM objects to build (a third of a rebuild).
_BUG_COLUMNS = (
    *(
        getattr(Bug, name)
        for name in (
            "id",
            "title",
            "description",
            "steps_to_reproduce",
            "expected",
            "actual",
            "workaround",
            "component",
            "product",
            "affected_versions",
            "signatures",
            "created_at",
            "updated_at",
            "state",
        )
    ),
    Bug.is_public.label("is_public"),
)


def _bug_changes(session: Session, since: datetime | None) -> Iterator[Change]:
    query = select(*_BUG_COLUMNS).order_by(Bug.updated_at, Bug.id)
    if since is not None:
        query = query.where(Bug.updated_at >= since)
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        yield Change(id=f"bug:{row.id}", updated_at=row.updated_at, doc=bug_doc(row))


def _bug_versions(session: Session) -> Iterator[tuple[str, datetime]]:
    for bug_id, updated_at in session.execute(select(Bug.id, Bug.updated_at)):
        yield f"bug:{bug_id}", updated_at


def _bug_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Bug)) or 0)


BUGS = Source(
    kind="bug", changes=_bug_changes, versions=_bug_versions, count=_bug_count, models=(Bug,)
)


class IndexSync:
    def __init__(
        self,
        database: Database,
        engine: SimilarityEngine,
        *,
        sources: Iterable[Source] = (BUGS,),
        overlap: timedelta = OVERLAP,
        reconcile_seconds: float = RECONCILE_SECONDS,
        refresh_seconds: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.engine = engine
        self.sources = tuple(sources)
        self.overlap = overlap
        self.reconcile_seconds = reconcile_seconds
        self.refresh_seconds = refresh_seconds
        self._monotonic = monotonic
        self._refreshed: tuple[float, int] | None = None  # (when, LOCAL_WRITES.generation)
        LOCAL_WRITES.watch(m for source in self.sources for m in source.models)
        self._lock = threading.Lock()
        self._seen: dict[str, datetime] = {}  # doc id → updated_at indexed
        self._watermark: dict[str, datetime | None] = {}
        self._reconciled_at = 0.0
        self._rebuilding = threading.Event()
        self.built = False

    def rebuild_in_background(self) -> threading.Thread:
        """Start the first build without holding up the caller (an API process starting).

        Until it ends, ``refresh`` returns at once and searches see the documents indexed so
        far, instead of every request waiting for the whole build.
        """
        self._rebuilding.set()
        thread = threading.Thread(target=self._first_build, name="index-rebuild", daemon=True)
        thread.start()
        return thread

    def _first_build(self) -> None:
        try:
            self.rebuild()
        except Exception as error:  # e.g. the database not reachable yet at start-up
            log.warning("search index: first build failed (%s); the next search builds it", error)

    def rebuild(self, *, progress: Callable[[int], None] | None = None) -> int:
        """(Re)build the engine from every source; ``progress(n)`` after each batch."""
        self._rebuilding.set()
        try:
            return self._rebuild(progress)
        finally:
            self._rebuilding.clear()

    def _rebuild(self, progress: Callable[[int], None] | None) -> int:
        with self._lock:
            self.engine.clear()
            self._seen.clear()
            total = 0
            with self.database.session(read_only=True) as session, self.engine.bulk():
                for source in self.sources:
                    self._watermark[source.kind] = None
                    batch: list[Change] = []
                    for change in source.changes(session, None):
                        batch.append(change)
                        if len(batch) >= BATCH:
                            total += self._apply(source, batch)
                            if progress is not None:
                                progress(len(batch))
                            batch = []
                    total += self._apply(source, batch)
                    if progress is not None and batch:
                        progress(len(batch))
            self._reconciled_at = self._monotonic()
            self.built = True
            return total

    def count(self) -> int:
        """How many rows a rebuild will read (for a progress bar)."""
        with self.database.session(read_only=True) as session:
            return sum(source.count(session) for source in self.sources)

    def refresh(self, session: Session | None = None) -> int:
        """Catch up with changes committed anywhere; returns how many documents changed.

        Pass the caller's session when it holds one (a request's): reading through it takes
        no second connection from the pool. Otherwise concurrent requests each hold their own
        connection while they wait for this lock, and the one holding the lock waits for a
        free connection: with as many requests as the pool has connections, nobody moves
        until the pool's timeout (tests/faults, bench/load: case reports at 32 clients per
        process failed with 500 after 30 s)."""
        if self._rebuilding.is_set():
            return 0  # a rebuild reads everything anyway; searches use what it has so far
        if not self.built:
            return self.rebuild()
        if self._fresh():
            return 0
        with self._lock, self._reading(session) as reading:
            # Read before polling: a commit landing meanwhile is caught by the next refresh.
            generation = LOCAL_WRITES.generation
            polled_at = self._monotonic() if self.refresh_seconds > 0 else 0.0
            changed = 0
            if self._monotonic() - self._reconciled_at >= self.reconcile_seconds:
                changed += self._reconcile(reading)
            for source in self.sources:
                watermark = self._watermark.get(source.kind)
                since = None if watermark is None else watermark - self.overlap
                changed += self._apply(source, list(source.changes(reading, since)))
            self._refreshed = (polled_at, generation)
            return changed

    def _fresh(self) -> bool:
        """Polled less than ``refresh_seconds`` ago, with no indexed change committed here since."""
        last = self._refreshed
        return (
            last is not None
            and self.refresh_seconds > 0
            and last[1] == LOCAL_WRITES.generation
            and self._monotonic() - last[0] < self.refresh_seconds
        )

    def _reading(self, session: Session | None) -> AbstractContextManager[Session]:
        if session is not None:
            return nullcontext(session)
        return self.database.session(read_only=True)

    def reconcile(self) -> int:
        """Drop deleted rows and re-read rows the polling missed (normally periodic)."""
        with self._lock, self._reading(None) as reading:
            return self._reconcile(reading)

    def _reconcile(self, session: Session) -> int:
        changed = 0
        for source in self.sources:
            present = dict(source.versions(session))
            prefix = f"{source.kind}:"
            gone = [i for i in self._seen if i.startswith(prefix) and i not in present]
            self.engine.remove(gone)
            for doc_id in gone:
                del self._seen[doc_id]
            changed += len(gone)
            missed = [u for i, u in present.items() if self._seen.get(i) != u]
            if missed:
                rows = list(source.changes(session, min(missed)))
                changed += self._apply(source, rows)
        self._reconciled_at = self._monotonic()
        return changed

    def _apply(self, source: Source, changes: list[Change]) -> int:
        fresh = [c for c in changes if self._seen.get(c.id) != c.updated_at]
        self.engine.add(c.doc for c in fresh if c.doc is not None)
        self.engine.remove(c.id for c in fresh if c.doc is None)
        for change in fresh:
            self._seen[change.id] = change.updated_at
        if changes:
            newest = max(c.updated_at for c in changes)
            current = self._watermark.get(source.kind)
            self._watermark[source.kind] = newest if current is None else max(current, newest)
        return len(fresh)
