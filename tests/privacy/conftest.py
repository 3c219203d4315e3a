"""A Northwind case with files, taken to closed, for retention and erasure tests."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from critdesk.attachment.models import Attachment
from critdesk.audit.models import AuditEvent
from tests.attachment.conftest import upload
from tests.case.test_actions import act
from tests.case.test_api import ALICE, BOB, ENG1, report

LOG = b"2026-11-25 09:12:03,114 ERROR [exec-4] c.v.runtime.Checkout - HTTP 500 for bob\n"


def close(client: Any, login: Any, ref: str) -> None:
    eng = login(ENG1)
    assert act(client, eng, ref, "start_investigation").status_code == 200
    resolved = act(
        client, eng, ref, "resolve", {"outcomes": [{"type": "workaround_provided", "text": "ok"}]}
    )
    assert resolved.status_code == 200, resolved.text
    assert act(client, login(ALICE), ref, "close").json()["state"] == "closed"


def upload_ok(client: Any, headers: dict[str, str], ref: str, **kwargs: Any) -> dict[str, Any]:
    response = upload(client, headers, ref, **kwargs)
    assert response.status_code == 201, response.text
    return dict(response.json())


def attachments(database: Any) -> dict[int, Attachment]:
    with database.session(read_only=True) as db:
        rows = db.scalars(select(Attachment).order_by(Attachment.id)).all()
        db.expunge_all()
        return {row.id: row for row in rows}


def audit_actions(database: Any, action: str) -> list[AuditEvent]:
    with database.session(read_only=True) as db:
        rows = db.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        db.expunge_all()
        return list(rows)


@pytest.fixture
def closed_case(client: Any, login: Any) -> dict[str, Any]:
    """Bob's case with Bob's log, Alice's screenshot-less text file and an engineer's internal
    file; closed by Alice at the fixed clock's time."""
    bob = login(BOB)
    case = report(client, bob)
    ref = case["ref"]
    files = {
        "bob": upload_ok(client, bob, ref, content=LOG, name="bob-runtime.log"),
        "alice": upload_ok(client, login(ALICE), ref, content=b"notes\n", name="notes.txt"),
        "internal": upload_ok(
            client, login(ENG1), ref, content=b"repro\n", name="repro.txt", internal=True
        ),
    }
    close(client, login, ref)
    return {"ref": ref, "files": files}
