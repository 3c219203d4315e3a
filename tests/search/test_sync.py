"""IndexSync: the engine built from the database and kept up with other processes' writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, event, select, update

from critdesk.auth.models import User
from critdesk.bug.models import Bug
from critdesk.cli.main import cli
from critdesk.db import Database, make_engine
from critdesk.search.engine import SimilarityEngine
from critdesk.search.sync import IndexSync, bug_doc

pytestmark = pytest.mark.usefixtures("demo")

TRACE = """java.lang.IllegalStateException: no primary key
\tat com.acme.platform.entity.EntityMapper.keyOf(EntityMapper.java:142)
\tat com.acme.platform.workspace.WorkspaceService.publish(WorkspaceService.java:210)
"""


def insert_bug(database: Database, at: datetime, title: str, **fields: Any) -> int:
    with database.session() as session:
        author = session.scalar(select(User.id).where(User.email == "eng1@vendor.example"))
        bug = Bug(
            product="Platform",
            component="Runtime",
            affected_versions=["10.4.2"],
            title=title,
            description=fields.pop("description", f"{title}. Seen in production."),
            steps_to_reproduce="1. Open the workspace\n2. Publish",
            expected="It publishes",
            actual="It fails",
            environment={"deployment_type": "cloud"},
            severity="S2",
            state="confirmed",
            public=False,
            signatures=[],
            external_refs={},
            submitted_at=at,
            created_by_id=author,
            created_at=at,
            updated_at=at,
            state_changed_at=at,
        )
        for name, value in fields.items():
            setattr(bug, name, value)
        session.add(bug)
        session.flush()
        return bug.id


def change_bug(database: Database, bug_id: int, at: datetime, **values: Any) -> None:
    with database.session() as session:
        session.execute(update(Bug).where(Bug.id == bug_id).values(updated_at=at, **values))


def found(engine: SimilarityEngine, text: str, **filters: Any) -> list[str]:
    return [hit.id for hit in engine.search(text, **filters)]


@pytest.fixture
def other_process(database_url: str) -> Iterator[Database]:
    """A second connection pool on the same database, as another API process has."""
    other = Database(make_engine(database_url, pool_size=2))
    yield other
    other.dispose()


def new_sync(database: Database, **options: Any) -> IndexSync:
    return IndexSync(database, SimilarityEngine(semantic=False), **options)


def test_bug_doc_maps_the_searchable_fields(database: Database, clock) -> None:  # type: ignore[no-untyped-def]
    bug_id = insert_bug(
        database,
        clock.now,
        "Publishing fails",
        description=f"Publishing fails:\n{TRACE}",
        workaround="Restart the runtime",
        signatures=["log:E1234", {"signature": "exception:Boom"}, 7],
        public=True,
    )
    with database.session(read_only=True) as session:
        doc = bug_doc(session.get(Bug, bug_id))
    assert doc.id == f"bug:{bug_id}" and doc.kind == "bug" and doc.public is True
    assert doc.state == "confirmed" and doc.created_at == clock.now
    for part in ("Steps to reproduce: 1. Open", "Expected: It publishes", "Actual: It fails"):
        assert part in doc.text
    assert "Workaround: Restart" in doc.text and "Affected versions: 10.4.2" in doc.text
    assert doc.signatures[:2] == ("log:E1234", "exception:Boom")
    assert (
        "stack:IllegalStateException@com.acme.platform.entity.EntityMapper.keyOf"
        + (">com.acme.platform.workspace.WorkspaceService.publish")
        in doc.signatures
    )


def test_a_public_draft_is_not_public_yet(database: Database, clock) -> None:  # type: ignore[no-untyped-def]
    bug_id = insert_bug(database, clock.now, "Draft", public=True, submitted_at=None)
    with database.session(read_only=True) as session:
        assert bug_doc(session.get(Bug, bug_id)).public is False


def test_a_bug_created_in_one_process_is_found_in_another(  # type: ignore[no-untyped-def]
    database: Database, other_process: Database, clock
) -> None:
    insert_bug(database, clock.now, "Gateway returns 502 under load")
    first, second = new_sync(database), new_sync(other_process)
    first.rebuild()
    second.rebuild()
    assert len(first.engine) == len(second.engine) == 1

    clock.advance(seconds=1)
    created = insert_bug(database, clock.now, "Scheduler skips the nightly licence renewal")
    assert found(second.engine, "licence renewal skipped") == []
    assert second.refresh() == 1
    assert found(second.engine, "licence renewal skipped") == [f"bug:{created}"]
    assert first.refresh() == 1 and len(first.engine) == 2
    # Re-reading the overlap window changes nothing.
    assert second.refresh() == 0


def test_refresh_builds_the_index_the_first_time(database: Database, clock) -> None:  # type: ignore[no-untyped-def]
    insert_bug(database, clock.now, "Export hangs")
    sync = new_sync(database)
    assert sync.refresh() == 1 and sync.built


def test_refresh_with_nothing_new_is_one_query(database: Database, clock) -> None:  # type: ignore[no-untyped-def]
    insert_bug(database, clock.now, "Export hangs")
    sync = new_sync(database)
    sync.rebuild()
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        assert sync.refresh() == 0
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert len(statements) == 1
    assert "updated_at >=" in statements[0]


def test_a_late_commit_inside_the_overlap_is_not_missed(  # type: ignore[no-untyped-def]
    database: Database, other_process: Database, clock
) -> None:
    insert_bug(database, clock.now, "Export hangs")
    sync = new_sync(other_process)
    sync.rebuild()
    # Stamped 3 s before the newest row the index has seen, committed only now.
    late = insert_bug(database, clock.now - timedelta(seconds=3), "Import mapping loses dates")
    sync.refresh()
    assert found(sync.engine, "import mapping dates") == [f"bug:{late}"]


def test_state_and_visibility_changes_follow(database: Database, clock) -> None:  # type: ignore[no-untyped-def]
    bug_id = insert_bug(database, clock.now, "Calendar invitations are not displayed")
    sync = new_sync(database)
    sync.rebuild()
    assert found(sync.engine, "calendar invitations", public_only=True) == []

    change_bug(database, bug_id, clock.advance(seconds=2), public=True, state="duplicate")
    sync.refresh()
    assert found(sync.engine, "calendar invitations", public_only=True) == [f"bug:{bug_id}"]
    assert sync.engine.get(f"bug:{bug_id}").state == "duplicate"  # type: ignore[union-attr]

    change_bug(database, bug_id, clock.advance(seconds=2), public=False, state="wont_fix")
    sync.refresh()
    assert found(sync.engine, "calendar invitations", public_only=True) == []
    assert found(sync.engine, "calendar invitations") == [f"bug:{bug_id}"]


def test_reconcile_drops_deleted_bugs_and_reads_missed_ones(database: Database, clock) -> None:  # type: ignore[no-untyped-def]
    doomed = insert_bug(database, clock.now, "Export hangs")
    insert_bug(database, clock.now, "Gateway returns 502")  # keeps SQLite from reusing ids
    sync = new_sync(database, reconcile_seconds=3600)
    sync.rebuild()
    with database.session() as session:
        session.execute(delete(Bug).where(Bug.id == doomed))
    # A change stamped long before the watermark (a very slow transaction) escapes polling…
    slow = insert_bug(database, clock.now - timedelta(hours=1), "Audit trail misses logins")
    sync.refresh()
    assert found(sync.engine, "audit trail logins") == []
    # …and is caught, with the deletion, by the periodic reconciliation.
    assert sync.reconcile() == 2
    assert found(sync.engine, "audit trail logins") == [f"bug:{slow}"]
    assert found(sync.engine, "export hangs") == []


def test_reconciliation_runs_from_refresh_when_due(database: Database, clock) -> None:  # type: ignore[no-untyped-def]
    doomed = insert_bug(database, clock.now, "Export hangs")
    ticks = iter([0.0, 10.0, 100.0, 100.0])
    sync = new_sync(database, reconcile_seconds=60, monotonic=lambda: next(ticks))
    sync.rebuild()
    with database.session() as session:
        session.execute(delete(Bug).where(Bug.id == doomed))
    sync.refresh()  # 10 s later: not due
    assert len(sync.engine) == 1
    sync.refresh()  # 100 s later: due
    assert len(sync.engine) == 0


def test_reindex_command_reports_what_it_indexed(
    database_url: str, database: Database, clock, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    insert_bug(database, clock.now, "Export hangs")
    insert_bug(database, clock.now, "Import fails")
    result = CliRunner().invoke(
        cli,
        ["search", "reindex", "--no-semantic"],
        env={"CRITDESK_DATABASE_URL": database_url, "CRITDESK_DATA_DIR": str(tmp_path)},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "indexed 2 documents" in result.output


def test_a_background_rebuild_serves_searches_when_done(database: Database, clock) -> None:  # type: ignore[no-untyped-def]
    bug_id = insert_bug(database, clock.now, "Export hangs")
    sync = new_sync(database)
    sync.rebuild_in_background().join(timeout=30)
    assert sync.built and sync.refresh() == 0
    assert found(sync.engine, "export hangs") == [f"bug:{bug_id}"]


def test_similar_command_prints_the_best_matches(
    database_url: str, database: Database, clock, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    export = insert_bug(database, clock.now, "Export of a Project hangs")
    insert_bug(database, clock.now, "Gateway returns 502")
    result = CliRunner().invoke(
        cli,
        ["search", "similar", "project export never finishes", "--no-semantic"],
        env={"CRITDESK_DATABASE_URL": database_url, "CRITDESK_DATA_DIR": str(tmp_path)},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith(f"bug:{export} ")
    assert "Export of a Project hangs" in result.output


def test_a_first_build_that_fails_is_logged_and_retried_by_the_next_search(caplog) -> None:
    from sqlalchemy import create_engine

    from critdesk.db import Database
    from critdesk.search.engine import SimilarityEngine
    from critdesk.search.sync import IndexSync

    nowhere = Database(create_engine("sqlite:////nonexistent-folder/critdesk.db"))
    sync = IndexSync(nowhere, SimilarityEngine(semantic=False))
    sync.rebuild_in_background().join(timeout=10)
    assert "first build failed" in caplog.text
    assert not sync.built


def test_a_throttled_refresh_polls_other_processes_at_most_that_often(  # type: ignore[no-untyped-def]
    database: Database, other_process: Database, clock
) -> None:
    other = insert_bug(database, clock.now, "Placeholder")
    now = [0.0]
    sync = new_sync(other_process, refresh_seconds=0.25, monotonic=lambda: now[0])
    sync.rebuild()
    assert sync.refresh() == 0  # the first poll after the build
    polled = 0

    def count(*_args: Any) -> None:
        nonlocal polled
        polled += 1

    event.listen(other_process.engine, "before_cursor_execute", count)
    try:
        # Another process's change (a plain UPDATE: no object of this process changed)…
        clock.advance(seconds=1)
        change_bug(database, other, clock.now, title="Certificate renewal loops forever")
        now[0] = 0.1
        assert sync.refresh() == 0 and polled == 0  # …is not looked for within 0.25 s…
        now[0] = 0.3
        assert sync.refresh() == 1 and polled > 0  # …and is found after it.
    finally:
        event.remove(other_process.engine, "before_cursor_execute", count)
    assert found(sync.engine, "certificate renewal") == [f"bug:{other}"]


def test_a_bug_filed_in_this_process_is_searchable_at_once_despite_the_throttle(  # type: ignore[no-untyped-def]
    database: Database, clock
) -> None:
    now = [0.0]
    sync = new_sync(database, refresh_seconds=0.25, monotonic=lambda: now[0])
    sync.rebuild()
    sync.refresh()
    created = insert_bug(database, clock.now, "Mail relay drops attachments over 10 MB")
    now[0] = 0.01  # well inside the throttle window
    assert sync.refresh() == 1
    assert found(sync.engine, "relay drops attachments") == [f"bug:{created}"]
    # An unrelated commit in this process does not force a poll.
    with database.session() as session:
        session.scalar(select(User.id).limit(1))
    assert sync.refresh() == 0
