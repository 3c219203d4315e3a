"""What a report writes: the rows as the ORM would have written them, and a Case the session
keeps tracking (the report inserts without the unit of work, then makes the case persistent)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from critdesk.audit.models import AuditEvent
from critdesk.auth.models import User
from critdesk.case import service as cases
from critdesk.case.models import Case, CaseEvent
from critdesk.case.rules import Impact
from tests.case.test_api import ALICE


def _report(db: Any, clock: Any) -> Case:
    alice = db.scalars(select(User).where(User.email == ALICE)).one()
    new = cases.NewCase(
        title="Checkout fails for everyone",
        description="Every checkout answers HTTP 500.",
        environment_id=alice.organisation.environments[0].id,
        impact=Impact(app_unavailable=True),
        breadth="all_users",
        end_users_blocked=True,
    )
    return cases.report_case(db=db, reporter=alice, new=new, now=clock.now).case


def test_unset_json_columns_are_sql_null_and_defaults_are_written(database, clock, demo) -> None:
    with database.session() as db:
        case_id = _report(db, clock).id
    with database.session() as db:
        row = db.execute(
            text(
                "SELECT redirect_details IS NULL, root_cause IS NULL, owner_id IS NULL,"
                " sla_breached, version, outcomes FROM cases WHERE id = :id"
            ),
            {"id": case_id},
        ).one()
        assert tuple(row[:3]) == (True, True, True)
        assert not row[3] and row[4] == 1 and row[5] in ("[]", [])
        case = db.get(Case, case_id)
        assert case is not None
        assert case.redirect_details is None and case.root_cause is None and case.outcomes == []
        # Queries on those columns find the new case as they find any other.
        assert case_id in db.scalars(select(Case.id).where(Case.root_cause.is_(None))).all()
        event = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).one()
        assert event.kind == "reported" and event.message is None and event.notify is not None
        audit = db.scalars(select(AuditEvent).where(AuditEvent.object_id == case.ref)).one()
        assert audit.action == "case.reported" and audit.seq is None


def test_the_reported_case_is_tracked_like_a_loaded_one(database, clock, demo) -> None:
    with database.session() as db:
        case = _report(db, clock)
        assert case in db and not db.is_modified(case)
        assert case.organisation.name == "Northwind Insurance" and case.owner is None
        case.title = "Checkout fails for everyone (retitled)"
        db.flush()  # an UPDATE fenced by the version column, as for any case
        assert case.version == 2
        case_id = case.id
    with database.session() as db:
        stored = db.get(Case, case_id)
        assert stored is not None
        assert stored.title.endswith("(retitled)") and stored.version == 2


def test_an_event_that_notifies_no_one_is_not_marked_for_the_outbox(database, clock, demo) -> None:
    with database.session() as db:
        case = _report(db, clock)
        quiet = cases.record_event(
            db=db, case=case, actor=None, now=clock.now, kind="test_quiet", message="Just noted."
        )
        case_id, quiet_id = case.id, quiet.id
        assert quiet in db and not db.is_modified(quiet) and quiet.notify is None
    with database.session() as db:
        marked = (
            db.execute(
                text("SELECT id FROM case_events WHERE case_id = :id AND notify IS NOT NULL"),
                {"id": case_id},
            )
            .scalars()
            .all()
        )
        assert quiet_id not in marked and len(marked) == 1  # the report's own
        assert db.get(CaseEvent, quiet_id).message == "Just noted."  # type: ignore[union-attr]
