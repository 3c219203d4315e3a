"""``critdesk audit``: verify exits 0 on an intact chain and 1 naming the first bad event."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, update

from critdesk.audit.models import AuditEvent
from critdesk.cli.main import cli
from tests.audit.conftest import add_events, guard_bypassed

EVENTS = AuditEvent.__table__


@pytest.fixture
def run(database_url, tmp_path):  # type: ignore[no-untyped-def]
    def _run(*args: str):  # type: ignore[no-untyped-def]
        environment = {
            "CRITDESK_DATABASE_URL": database_url,
            "CRITDESK_DATA_DIR": str(tmp_path / "data"),
        }
        return CliRunner().invoke(cli, ["audit", *args], env=environment, catch_exceptions=False)

    return _run


NOW = datetime.now(UTC)


def test_verify_seals_then_reports_an_intact_chain(run, database) -> None:
    add_events(database, NOW, 25)
    result = run("verify")
    assert result.exit_code == 0, result.output
    match = re.search(
        r"audit chain intact: 25 sealed event\(s\), head 25:([0-9a-f]{64})", result.output
    )
    assert match, result.output
    add_events(database, NOW, 2, start=25)
    again = run("verify", "--anchor", f"25:{match.group(1)}")
    assert again.exit_code == 0 and "27 sealed event(s)" in again.output


def test_verify_without_sealing_warns_about_old_unsealed_events(run, database) -> None:
    add_events(database, NOW - timedelta(hours=1), 3)
    result = run("verify", "--no-seal", "--unsealed-minutes", "30")
    assert result.exit_code == 0, result.output
    assert "warning: 3 event(s) not sealed yet" in result.output
    assert "0 sealed event(s)" in result.output and "3 event(s) not sealed yet" in result.output


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            update(EVENTS).where(EVENTS.c.seq == 4).values(data={"i": 0}),
            "edited at seq 4, event id 4: the hash does not match",
        ),
        (
            update(EVENTS).where(EVENTS.c.seq == 4).values(action="case.nothing"),
            "edited at seq 4, event id 4",
        ),
        (
            delete(EVENTS).where(EVENTS.c.seq == 4),
            "gap at seq 5, event id 5: the chain jumps from seq 3 to 5",
        ),
        (
            delete(EVENTS).where(EVENTS.c.seq == 10),
            "head_mismatch at seq 9: the chain head is at seq 10 but the events end at seq 9",
        ),
    ],
    ids=["edit data", "edit action", "delete a middle event", "delete the last event"],
)
def test_verify_exits_1_naming_the_first_bad_event(run, database, tamper, expected) -> None:
    add_events(database, NOW, 10)
    assert run("seal").exit_code == 0
    with guard_bypassed(database) as conn:
        conn.execute(tamper)
    result = run("verify")
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "audit chain BROKEN" in result.output


def test_seal_and_tail_show_the_head(run, database) -> None:
    add_events(database, NOW, 3)
    sealed = run("seal")
    assert sealed.exit_code == 0
    assert re.match(r"sealed 3 event\(s\); head 3:[0-9a-f]{64}", sealed.output)
    add_events(database, NOW, 1, start=3)
    tail = run("tail", "-n", "2")
    assert tail.exit_code == 0
    lines = tail.output.splitlines()
    assert "seq 3 " in lines[0] and "test.event thing:2" in lines[0]
    assert "unsealed" in lines[1] and lines[2].startswith("head 3:")


def test_a_malformed_anchor_is_a_usage_error(run) -> None:
    result = run("verify", "--anchor", "12:xyz")
    assert result.exit_code == 2 and "SEQ:HASH" in result.output
